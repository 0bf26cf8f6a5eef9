"""Export of one CallerID's recharge history (SPEC §6): every ledger row except calls."""

import io

import openpyxl
import pytest
from django.urls import reverse

from credit.models import LedgerKind
from tenancy.models import ChargingPreferences
from tests.exports.helpers import body, make_callerid, make_entry, money, read_csv, read_xlsx, utc

HEADER = [
    "Order Number",
    "Type",
    "Credit Added",
    "Credit Left",
    "Date Added (Europe/Bucharest)",
    "Added by",
]
FORMULAS = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def callerid(extension_a, extension_b):
    ChargingPreferences.objects.create(pk=1, currency="EUR", decimals=2)
    callerid = make_callerid(extension_a, "+40721000123", available="5", at=utc(2026, 1, 1))
    make_entry(callerid, LedgerKind.INITIAL, "10", "10", at=utc(2026, 1, 1), by="alice")
    make_entry(callerid, LedgerKind.CALL, "-1.25", "8.75", at=utc(2026, 1, 2), by="")
    for day, order in enumerate(FORMULAS, start=3):
        make_entry(
            callerid, LedgerKind.RECHARGE, "1", str(7 + day), order=order, at=utc(2026, 1, day)
        )
    make_entry(
        callerid,
        LedgerKind.ADJUSTMENT,
        "-3.2500",
        "11.5000",
        order="ADJ-7",
        at=utc(2026, 1, 10, 22, 30),
        by="=bob",
    )
    make_entry(callerid, LedgerKind.SET_UNLIMITED, None, None, order="U1", at=utc(2026, 1, 11, 9))
    make_entry(callerid, LedgerKind.SET_LIMITED, "-5", "0", order="L1", at=utc(2026, 1, 12, 9))
    other = make_callerid(extension_b, "+40731000003", available="1", at=utc(2026, 1, 1))
    make_entry(other, LedgerKind.INITIAL, "1", "1", order="B-ONLY", at=utc(2026, 1, 1))
    return callerid


def export(client, callerid_pk, file_format="csv", **params):
    return client.get(
        reverse("exports:download", args=["recharge_history", file_format]),
        {"callerid": callerid_pk, **params},
    )


def test_csv_holds_every_row_but_calls_newest_first(client_for, callerid):
    rows = read_csv(body(export(client_for("reseller_a"), callerid.pk)))

    assert rows == [
        HEADER,
        ["L1", "Limit set", "-5.0000", "0.0000", "2026-01-12 11:00:00", "alice"],
        ["U1", "Unlimited", "Unlimited", "Unlimited", "2026-01-11 11:00:00", "alice"],
        ["ADJ-7", "Adjustment", "-3.2500", "11.5000", "2026-01-11 00:30:00", "'=bob"],
        ["'\rCR", "Recharge", "1.0000", "15.0000", "2026-01-08 02:00:00", "alice"],
        ["'\tTAB", "Recharge", "1.0000", "14.0000", "2026-01-07 02:00:00", "alice"],
        ["'@SUM(A1)", "Recharge", "1.0000", "13.0000", "2026-01-06 02:00:00", "alice"],
        ["'-2+3", "Recharge", "1.0000", "12.0000", "2026-01-05 02:00:00", "alice"],
        ["'+1", "Recharge", "1.0000", "11.0000", "2026-01-04 02:00:00", "alice"],
        ["'=1+1", "Recharge", "1.0000", "10.0000", "2026-01-03 02:00:00", "alice"],
        ["", "Initial credit", "10.0000", "10.0000", "2026-01-01 02:00:00", "alice"],
    ]


def test_xlsx_keeps_formula_text_as_text_and_amounts_as_numbers(client_for, callerid):
    data = body(export(client_for("staff_a"), callerid.pk, "xlsx"))

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.title == "History +40721000123"
    for row_number, text in zip(range(10, 4, -1), FORMULAS, strict=True):
        cell = sheet.cell(row=row_number, column=1)
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix
    assert sheet["C4"].data_type == "n" and money(sheet["C4"].value) == money("-3.25")
    assert sheet["F4"].value == "=bob" and sheet["F4"].data_type == "s"
    assert [sheet["B3"].value, sheet["C3"].value, sheet["D3"].value] == ["Unlimited"] * 3
    assert [sheet[f"B{row}"].value for row in (2, 4, 5, 11)] == [
        "Limit set",
        "Adjustment",
        "Recharge",
        "Initial credit",
    ]
    assert sheet["E2"].value.isoformat() == "2026-01-12T11:00:00"


def test_xlsx_and_csv_hold_the_same_cells(client_for, callerid):
    client = client_for("reseller_a")
    csv_rows = read_csv(body(export(client, callerid.pk)))
    xlsx_rows = read_xlsx(body(export(client, callerid.pk, "xlsx")))["History +40721000123"]

    assert len(csv_rows) == len(xlsx_rows) == 11
    for csv_row, xlsx_row in zip(csv_rows[1:], xlsx_rows[1:], strict=True):
        order, kind, added, left, date, by = xlsx_row
        assert csv_row[0] == ("'" + order if order and order[0] in "=+-@\t\r" else order or "")
        assert csv_row[1] == kind
        for text, number in ((csv_row[2], added), (csv_row[3], left)):
            assert text == (number if number == "Unlimited" else str(money(number)))
        assert csv_row[4] == date.strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("params", "orders"),
    [
        ({"order_number": "adj"}, ["ADJ-7"]),
        ({"date_from": "2026-01-11", "date_to": "2026-01-11"}, ["U1", "ADJ-7"]),
        ({"date_from": "2026-01-12"}, ["L1"]),
        ({"date_to": "2026-01-01"}, [""]),
    ],
)
def test_the_export_is_the_history_as_currently_searched(client_for, callerid, params, orders):
    response = export(client_for("reseller_a"), callerid.pk, **params)

    assert [row[0] for row in read_csv(body(response))[1:]] == orders


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        {"date_from": "yesterday"},
        {"sort": "-created"},
        {"extension": "1"},
    ],
)
def test_bad_or_unknown_parameters_are_refused(client_for, callerid, params):
    assert export(client_for("reseller_a"), callerid.pk, **params).status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 200),
        ("reseller_b", 404),
        ("staff_a", 200),
        ("staff_server", 200),
        ("anonymous", 302),
    ],
)
def test_role_matrix(client_for, callerid, role, status):
    response = export(client_for(role), callerid.pk, "xlsx")

    assert response.status_code == status
    if status == 200:
        assert len(read_xlsx(body(response))["History +40721000123"]) == 11


def test_file_name_names_the_callerid(client_for, callerid):
    response = export(client_for("admin"), callerid.pk)

    assert response["Content-Disposition"].startswith(
        'attachment; filename="recharge-history-40721000123-'
    )


def test_query_count_does_not_grow_with_the_rows(
    client_for, callerid, django_assert_max_num_queries
):
    client = client_for("reseller_a")
    for i in range(50):
        make_entry(callerid, LedgerKind.RECHARGE, "1", "1", order=f"X{i}", at=utc(2026, 2, 1))

    with django_assert_max_num_queries(8):
        assert len(read_csv(body(export(client, callerid.pk)))) == 61
