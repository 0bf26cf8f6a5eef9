"""The CSV fast path on PostgreSQL (`COPY … TO STDOUT`) writes exactly what the general path
writes, byte for byte and cell by cell (SPEC §8), streams, and cleans up after itself."""

import threading
from urllib.parse import urlencode

import psycopg2
import pytest
from django.urls import reverse

from callback.models import CallbackExtension
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import LedgerKind
from exports.renderers import csv as csv_renderer
from exports.renderers import csv_copy
from tenancy.models import ChargingPreferences, Organization
from tests.exports.helpers import BOM, body, make_callerid, make_entry, read_csv, utc

# The dedicated COPY connection sees only committed rows.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TRICKY_TEXT = [
    '=HYPERLINK("x")',
    "+plus",
    "-minus",
    "@at",
    "\ttab",
    "\rcr",
    'comma, and "quotes"',
    "new\nline",
    "semi;colon",
    "Ünïcødé șțăîâ €",
    " spaces ",
    "\\.",
    "'quoted",
    "plain",
]
NUMBERS = [
    "+40721000123",
    "0721000999",
    "123",
    "12",
    "+12",
    "+123",
    "+123456789012345",
    "+12a45",
    "+",
    "=1+1",
    "-5",
    "@x",
    "\tx",
    "\rx",
    "a,b",
    'q"q',
    "n\nl",
    "c\rr",
    "ăș",
    "",
    "٣٤٥",
]
AMOUNTS = ["0", "-0", "0.0001", "1.5", "12.3456", "9999999999.9999", "100"]
MOMENTS = [
    # Europe/Bucharest: summer time starts 2026-03-29 01:00 UTC, ends 2026-10-25 01:00 UTC.
    utc(2026, 3, 29, 0, 59, 59, 999999),
    utc(2026, 3, 29, 1, 0, 0),
    utc(2026, 10, 25, 0, 30, 0, 1),
    utc(2026, 10, 25, 1, 30, 0, 500000),
    utc(2026, 12, 31, 22, 0, 0),
    utc(2000, 1, 1, 0, 0, 0, 999999),
]


@pytest.fixture(params=["RON", '=,"'])
def currency(request, db):
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": request.param, "decimals": 2}
    )
    return request.param


@pytest.fixture
def dataset(extension_a, extension_b, reseller_a, currency):
    extensions = [extension_a]
    for i, name in enumerate(TRICKY_TEXT):
        organization = Organization.objects.create(reseller=reseller_a, name=name)
        extensions.append(
            CallbackExtension.objects.create(organization=organization, number=f"0003*1{i:02d}")
        )
    statuses = [
        (CallerIDStatus.ENABLED, ""),
        (CallerIDStatus.DISABLED, ""),
        (CallerIDStatus.DISABLED, 'a,"b"\n=c'),
        (CallerIDStatus.DISABLED, "=locked"),
        (CallerIDStatus.REMOVED, ""),
    ]
    for i, number in enumerate(NUMBERS):
        status, reason = statuses[i % len(statuses)]
        make_callerid(
            extensions[i % len(extensions)] if i % 3 else extension_a,
            number,
            available=AMOUNTS[i % len(AMOUNTS)],
            total=AMOUNTS[(i + 3) % len(AMOUNTS)],
            unlimited=i % 6 == 5,
            status=status,
            reason=reason,
            pin=i % 2 == 0,
            # Two rows share each moment: the sort's tie-breaker decides their order.
            at=MOMENTS[(i // 2) % len(MOMENTS)],
        )
    for i, extension in enumerate(extensions[1:]):
        make_callerid(extension, f"+407220000{i:02d}", available="2", at=MOMENTS[i % 6])
    make_callerid(extension_b, "+40799999999", available="9", at=utc(2026, 3, 2))
    callerid = AuthorizedCallerID.objects.get(extension=extension_a, number="+40721000123")
    make_entry(callerid, LedgerKind.INITIAL, "10", "10", at=MOMENTS[0], by="alice")
    make_entry(callerid, LedgerKind.CALL, "-1.25", "8.75", at=MOMENTS[1], by="")
    make_entry(callerid, LedgerKind.SET_UNLIMITED, None, None, at=MOMENTS[2], by="")
    for i, text in enumerate(TRICKY_TEXT):
        make_entry(
            callerid,
            LedgerKind.RECHARGE,
            AMOUNTS[i % len(AMOUNTS)],
            "9999999999.9999",
            order=text,
            by=text,
            at=MOMENTS[i % len(MOMENTS)],
        )
    return callerid


@pytest.fixture
def copy_calls(monkeypatch):
    """How many exports went through COPY."""
    calls = []
    real = csv_renderer.copy_rows

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(csv_renderer, "copy_rows", spy)
    return calls


def both_paths(client, settings, copy_calls, identifier, params):
    url = f"{reverse('exports:download', args=[identifier, 'csv'])}?{urlencode(params)}"
    settings.EXPORT_CSV_COPY = False
    general = client.get(url)
    assert general.status_code == 200
    general_body = body(general)
    settings.EXPORT_CSV_COPY = True
    before = len(copy_calls)
    fast = client.get(url)
    assert fast.status_code == 200
    fast_body = body(fast)
    assert len(copy_calls) == before + 1, "the COPY path was not taken"
    return general_body, fast_body


def assert_same(general: bytes, fast: bytes, delimiter: str) -> None:
    assert read_csv(fast, delimiter) == read_csv(general, delimiter)
    assert fast == general


CALLERID_SEARCHES = [
    {},
    {"sort": "number"},
    {"sort": "-number"},
    {"sort": "created"},
    {"sort": "total"},
    {"sort": "-total"},
    {"sort": "available"},
    {"sort": "-available"},
    {"status": "removed"},
    {"status": "disabled", "sort": "number"},
    {"credit": "unlimited"},
    {"credit": "no_credit"},
    {"credit": "has_credit", "q": "07 21"},
    {"q": "%"},
]


@pytest.mark.parametrize("dialect", ["comma", "semicolon"])
def test_one_extensions_callerids_are_written_byte_for_byte_like_the_general_path(
    client_for, settings, copy_calls, extension_a, dataset, dialect
):
    client = client_for("reseller_a")
    delimiter = ";" if dialect == "semicolon" else ","
    for search in CALLERID_SEARCHES:
        params = {"extension": extension_a.pk, "dialect": dialect, **search}
        general, fast = both_paths(client, settings, copy_calls, "callerids", params)
        assert_same(general, fast, delimiter)


@pytest.mark.parametrize("role", ["admin", "reseller_a", "reseller_b", "staff_a"])
@pytest.mark.parametrize("dialect", ["comma", "semicolon"])
def test_all_callerids_are_written_byte_for_byte_like_the_general_path(
    client_for, settings, copy_calls, dataset, role, dialect
):
    client = client_for(role)
    delimiter = ";" if dialect == "semicolon" else ","
    for search in [{}, {"sort": "number"}, {"status": "removed"}, {"credit": "has_credit"}]:
        general, fast = both_paths(
            client, settings, copy_calls, "callerids_all", {"dialect": dialect, **search}
        )
        assert_same(general, fast, delimiter)


@pytest.mark.parametrize("role", ["admin", "reseller_a", "staff_a"])
@pytest.mark.parametrize("dialect", ["comma", "semicolon"])
def test_the_extension_lists_callerids_are_written_byte_for_byte_like_the_general_path(
    client_for, settings, copy_calls, dataset, role, dialect
):
    client = client_for(role)
    delimiter = ";" if dialect == "semicolon" else ","
    for search in [{}, {"sort": "-number"}, {"q": "0003"}, {"active": "yes"}]:
        params = {"dialect": dialect, **search}
        general, fast = both_paths(client, settings, copy_calls, "extension_list_callerids", params)
        assert_same(general, fast, delimiter)


@pytest.mark.parametrize("dialect", ["comma", "semicolon"])
def test_recharge_history_is_written_byte_for_byte_like_the_general_path(
    client_for, settings, copy_calls, dataset, dialect
):
    client = client_for("staff_a")
    delimiter = ";" if dialect == "semicolon" else ","
    for search in [{}, {"order_number": "A"}, {"date_from": "2026-03-29", "date_to": "2026-10-25"}]:
        general, fast = both_paths(
            client,
            settings,
            copy_calls,
            "recharge_history",
            {"callerid": dataset.pk, "dialect": dialect, **search},
        )
        assert_same(general, fast, delimiter)


def test_the_dataset_really_holds_the_tricky_cells(client_for, settings, extension_a, dataset):
    settings.EXPORT_CSV_COPY = True
    url = reverse("exports:download", args=["callerids_all", "csv"])
    client = client_for("admin")
    cells = {
        cell
        for status in ("", "removed")
        for row in read_csv(body(client.get(url, {"status": status})))[1:]
        for cell in row
    }

    assert {"'=1+1", "'+12", "+123", "+123456789012345", "'+12a45", "12", "'-5", "n\nl"} <= cells
    assert {"'\tx", "'\rx", "Unlimited", "0.0000", "9999999999.9999", "ăș"} <= cells
    assert {
        'Disabled (a,"b"\n=c)',
        "Disabled",
        "2026-03-29 02:59:59",
        "2026-03-29 04:00:00",
    } <= cells
    assert {"2026-10-25 03:30:00", '\'=HYPERLINK("x")', "'\rcr", "new\nline", "\\."} <= cells
    assert "" in cells  # the empty number


def test_the_header_leaves_before_the_database_is_asked(
    client_for, settings, extension_a, dataset, monkeypatch
):
    settings.EXPORT_CSV_COPY = True
    response = client_for("admin").get(
        reverse("exports:download", args=["callerids", "csv"]), {"extension": extension_a.pk}
    )

    def no_connection(**kwargs):
        raise AssertionError("connected too early")

    monkeypatch.setattr(psycopg2, "connect", no_connection)
    stream = iter(response.streaming_content)
    assert next(stream).startswith(BOM + b"Callback Number,")
    with pytest.raises(AssertionError, match="too early"):
        next(stream)
    response.close()


def test_a_download_stopped_early_cancels_the_copy_and_closes_its_connection(
    client_for, settings, extension_a, currency, monkeypatch
):
    AuthorizedCallerID.objects.bulk_create(
        AuthorizedCallerID(extension=extension_a, number=f"+40720{i:06d}", available=1, total=1)
        for i in range(5000)
    )
    settings.EXPORT_CSV_COPY = True
    monkeypatch.setattr(csv_copy, "CHUNK_BYTES", 500)
    monkeypatch.setattr(csv_copy, "QUEUE_CHUNKS", 1)
    opened = []
    real_connect = psycopg2.connect

    def connect(**kwargs):
        opened.append(real_connect(**kwargs))
        return opened[-1]

    monkeypatch.setattr(psycopg2, "connect", connect)
    response = client_for("admin").get(
        reverse("exports:download", args=["callerids", "csv"]), {"extension": extension_a.pk}
    )
    stream = iter(response.streaming_content)
    next(stream), next(stream), next(stream)

    response.close()

    assert len(opened) == 1 and opened[0].closed
    assert not [t for t in threading.enumerate() if t.name == "export-csv-copy"]


def test_switched_off_the_general_path_writes_the_rows(
    client_for, settings, copy_calls, extension_a, currency
):
    settings.EXPORT_CSV_COPY = False
    make_callerid(extension_a, "+40721000123", available="1", at=utc(2026, 1, 1))
    url = reverse("exports:download", args=["callerids", "csv"])

    rows = read_csv(body(client_for("admin").get(url, {"extension": extension_a.pk})))

    assert [row[0] for row in rows[1:]] == ["+40721000123"]
    assert copy_calls == []
