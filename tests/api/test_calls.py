"""POST /api/v1/calls: record and charge a finished call (SPEC §9, §6.1)."""

import json
from decimal import Decimal

import pytest
from django.db import connection

from callerids.models import CallerIDStatus
from credit.models import Call, LedgerEntry, LedgerKind
from tests.api.conftest import UNLIMITED, add_callerid
from tests.conftest import audit_mark, events_since

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"


def call_body(callerid, **changes):
    body = {
        "call_id": "pbx1-1700000000.123",
        "extension": "0003*001",
        "callerid_id": callerid if callerid is None or isinstance(callerid, int) else callerid.pk,
        "caller_id": CALLER,
        "destination": "+4031000000",
        "started_at": "2026-11-26T10:00:00Z",
        "duration_seconds": 125,
        "cost": "0.4167",
    }
    body.update(changes)
    return body


def report(api, callerid, **changes):
    return api.post("/calls", call_body(callerid, **changes))


def ledger_of(callerid):
    return list(LedgerEntry.objects.filter(callerid=callerid).order_by("id"))


def test_a_call_is_recorded_and_charged(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("12.5"))
    mark = audit_mark()
    status, body = report(server_api, callerid)
    assert status == 201
    assert body == {
        "call_id": "pbx1-1700000000.123",
        "callerid_id": callerid.pk,
        "metered": True,
        "charged": "0.4167",
        "shortfall": "0.0000",
        "available": "12.0833",
    }
    callerid.refresh_from_db()
    assert callerid.available == Decimal("12.0833")
    assert callerid.total == Decimal("12.5")  # calls do not change the total granted
    call = Call.objects.get()
    assert (call.extension, call.callerid, call.caller_id, call.destination) == (
        extension_a,
        callerid,
        CALLER,
        "+4031000000",
    )
    assert (call.duration_seconds, call.cost, call.charged, call.shortfall, call.metered) == (
        125,
        Decimal("0.4167"),
        Decimal("0.4167"),
        Decimal("0"),
        True,
    )
    assert call.started_at.isoformat() == "2026-11-26T10:00:00+00:00"
    assert call.token.name == "pbx1"
    entry = ledger_of(callerid)[-1]
    assert (entry.kind, entry.amount, entry.balance_after, entry.call) == (
        LedgerKind.CALL,
        Decimal("-0.4167"),
        Decimal("12.0833"),
        call,
    )
    # Reported calls write ledger rows, not audit events (SPEC §2).
    assert not events_since(mark).exists()


def test_a_cost_above_what_is_left_charges_what_is_left_and_records_the_shortfall(
    server_api, extension_a
):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("0.3"))
    status, body = report(server_api, callerid, cost="1.0001")
    assert status == 201
    assert (body["charged"], body["shortfall"], body["available"]) == ("0.3000", "0.7001", "0.0000")
    callerid.refresh_from_db()
    assert callerid.available == Decimal("0")
    assert ledger_of(callerid)[-1].amount == Decimal("-0.3")


def test_an_unlimited_callerid_is_charged_the_whole_cost_without_a_balance(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=UNLIMITED)
    status, body = report(server_api, callerid, cost="7.5")
    assert (status, body["charged"], body["shortfall"], body["available"]) == (
        201,
        "7.5000",
        "0.0000",
        None,
    )
    entry = ledger_of(callerid)[-1]
    assert (entry.amount, entry.balance_after) == (Decimal("-7.5"), None)
    callerid.refresh_from_db()
    assert (callerid.unlimited, callerid.available) == (True, None)


def test_a_call_without_a_callerid_is_unmetered(server_api, extension_a):
    status, body = report(server_api, None, cost="3.0000")
    assert status == 201
    assert body == {
        "call_id": "pbx1-1700000000.123",
        "callerid_id": None,
        "metered": False,
        "charged": "0.0000",
        "shortfall": "0.0000",
        "available": None,
    }
    call = Call.objects.get()
    assert (call.callerid, call.metered, call.cost, call.extension) == (
        None,
        False,
        Decimal("3"),
        extension_a,
    )
    assert not LedgerEntry.objects.filter(kind=LedgerKind.CALL).exists()


def test_a_free_call_still_writes_its_ledger_row(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1"))
    assert report(server_api, callerid, cost="0")[1]["charged"] == "0.0000"
    assert ledger_of(callerid)[-1].kind == LedgerKind.CALL


@pytest.mark.parametrize("status", [CallerIDStatus.DISABLED, CallerIDStatus.REMOVED])
def test_a_callerid_disabled_or_removed_since_authorize_is_still_charged(
    server_api, extension_a, status
):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("2"))
    callerid.status = status
    callerid.save()
    answer = report(server_api, callerid, cost="0.5")
    assert (answer[0], answer[1]["available"]) == (201, "1.5000")


def test_a_callerid_renumbered_since_authorize_is_still_charged(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("2"))
    callerid.number = "+40721000999"
    callerid.save()
    assert report(server_api, callerid, cost="0.5")[1]["available"] == "1.5000"
    assert Call.objects.get().caller_id == CALLER  # kept as reported


@pytest.mark.parametrize("mode", ["caller", "fixed"])
def test_a_callerid_id_sent_for_an_open_mode_extension_is_still_charged(
    server_api, extension_a, mode
):
    """Decision (docs/api.md): a callerid_id is only ever returned by authorize in the list
    mode, so a report carrying one was authorized against that CallerID's credit (the mode
    may have changed since, like a CallerID may be renumbered): it is charged. Only a null
    callerid_id is unmetered."""
    from callback.models import ReturnMode

    callerid = add_callerid(extension_a, CALLER, credit=Decimal("2"))
    extension_a.return_mode = ReturnMode.CALLER if mode == "caller" else ReturnMode.FIXED
    extension_a.fixed_number = "+40311000000" if mode == "fixed" else ""
    extension_a.save()
    status, body = report(server_api, callerid, cost="0.5")
    assert (status, body["metered"], body["charged"], body["available"]) == (
        201,
        True,
        "0.5000",
        "1.5000",
    )


def test_a_callerid_of_another_extension_is_unknown(server_api, extension_a, org_a):
    from callback.models import CallbackExtension

    other = CallbackExtension.objects.create(organization=org_a, number="0003*002")
    callerid = add_callerid(other, CALLER)
    assert report(server_api, callerid) == (
        404,
        {"error": "unknown_callerid", "detail": "No such authorized CallerID."},
    )
    assert not Call.objects.exists()


def test_an_unknown_extension_is_404(server_api, extension_a):
    status, body = report(server_api, None, extension="0009*999")
    assert (status, body["error"]) == (404, "unknown_extension")


def test_a_reseller_token_cannot_report_on_another_resellers_extension(
    api_b, extension_a, extension_b
):
    callerid = add_callerid(extension_a, CALLER)
    status, body = report(api_b, callerid)
    assert (status, body["error"]) == (404, "unknown_extension")
    # Nor with its own extension and the other reseller's CallerID.
    status, body = report(api_b, callerid, extension="0004*001")
    assert (status, body["error"]) == (404, "unknown_callerid")
    assert not Call.objects.exists()


def test_the_same_call_reported_again_answers_the_original_and_charges_nothing(
    server_api, extension_a
):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("12.5"))
    first = report(server_api, callerid)
    report(server_api, callerid, cost="1.0000", call_id="another")
    # Same call: the timestamp written another way and the cost with fewer decimals.
    again = report(server_api, callerid, started_at="2026-11-26T12:00:00+02:00", cost="0.4167")
    assert first[0] == 201
    assert again == (200, first[1])
    callerid.refresh_from_db()
    assert callerid.available == Decimal("11.0833")
    assert Call.objects.count() == 2


def test_an_unmetered_call_reported_again_answers_the_original(server_api, extension_a):
    first = report(server_api, None)
    assert report(server_api, None) == (200, first[1])


@pytest.mark.parametrize(
    "change",
    [
        {"cost": "0.4168"},
        {"duration_seconds": 126},
        {"started_at": "2026-11-26T10:00:01Z"},
        {"callerid_id": None},
        {"extension": "0003*002"},
    ],
)
def test_the_same_call_id_for_a_different_call_is_a_conflict(
    server_api, extension_a, org_a, change
):
    from callback.models import CallbackExtension

    CallbackExtension.objects.create(organization=org_a, number="0003*002")
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("12.5"))
    report(server_api, callerid)
    status, body = report(server_api, callerid, **change)
    assert status == 409
    assert body["error"] == "call_id_conflict"
    assert "0.4167" not in body["detail"] and str(callerid.pk) not in body["detail"]
    callerid.refresh_from_db()
    assert callerid.available == Decimal("12.0833")


def test_a_token_that_cannot_see_the_original_call_gets_a_conflict(
    server_api, api_b, extension_a, extension_b
):
    callerid = add_callerid(extension_a, CALLER)
    report(server_api, callerid)
    status, body = report(api_b, None, extension="0004*001")
    assert (status, body["error"]) == (409, "call_id_conflict")


def test_caller_and_destination_are_optional(server_api, extension_a):
    body = call_body(None)
    del body["caller_id"], body["destination"]
    assert server_api.post("/calls", body)[0] == 201


def test_a_cost_may_be_a_json_number_read_exactly(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1"))
    raw = (
        f'{{"call_id": "n1", "extension": "0003*001", "callerid_id": {callerid.pk}, '
        '"started_at": "2026-11-26T10:00:00Z", "duration_seconds": 1, "cost": 0.1}'
    )
    assert server_api.post("/calls", raw)[1]["available"] == "0.9000"


@pytest.mark.parametrize(
    "change",
    [
        {"cost": "-0.0001"},
        {"cost": "0.00001"},
        {"cost": "1,5"},
        {"cost": "abc"},
        {"cost": "NaN"},
        {"cost": None},
        {"cost": True},
        {"cost": "1000000.0001"},
        {"duration_seconds": -1},
        {"duration_seconds": "5"},
        {"duration_seconds": 2**31},
        {"started_at": "2026-11-26T10:00:00"},  # no time zone
        {"started_at": "yesterday"},
        {"call_id": ""},
        {"call_id": "x" * 129},
        {"call_id": "a\x00b"},
        {"destination": "y" * 65},
        {"callerid_id": "42"},
        {"callerid_id": 2**63},
    ],
)
def test_bad_values_are_malformed(server_api, extension_a, change):
    callerid = add_callerid(extension_a, CALLER)
    status, body = report(server_api, callerid, **change)
    assert (status, body["error"]) == (400, "malformed")
    assert body["detail"]
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "missing", ["call_id", "extension", "callerid_id", "started_at", "duration_seconds", "cost"]
)
def test_a_missing_field_is_malformed(server_api, extension_a, missing):
    body = call_body(None)
    del body[missing]
    status, answer = server_api.post("/calls", body)
    assert (status, answer["error"]) == (400, "malformed")
    assert missing in answer["detail"]


def test_it_asks_the_database_a_bounded_number_of_times(
    server_api, extension_a, django_assert_max_num_queries
):
    callerid = add_callerid(extension_a, CALLER)
    report(server_api, callerid, call_id="warm-up")
    # + the panel home's day and credit totals: one upsert on PostgreSQL; on SQLite a read
    # and a write of each row.
    with django_assert_max_num_queries(10 + (1 if connection.vendor == "postgresql" else 4)):
        assert report(server_api, callerid)[0] == 201


@pytest.mark.parametrize("cost", ["-0.0", "-0.0000", "-0E+2"])
def test_the_api_records_a_call_costing_minus_zero_as_free(server_api, extension_a, cost):
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("5"))
    body = call_body(callerid).copy()
    body["cost"] = "__COST__"
    raw = json.dumps(body).replace('"__COST__"', cost)

    status, answer = server_api.post("/calls", raw)

    assert status == 201, answer
    assert (answer["charged"], answer["shortfall"], answer["available"]) == (
        "0.0000",
        "0.0000",
        "5.0000",
    )
    call = Call.objects.get()
    assert call.cost == 0 and not call.cost.is_signed()


@pytest.mark.parametrize("field", ["rate_per_minute", "connection_fee"])
def test_calls_start_reads_a_minus_zero_rate_or_fee_as_zero(server_api, extension_a, field):
    from tests.api.test_calls_start import start_body

    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1"))
    body = start_body(callerid, **{field: "__AMOUNT__"})
    if field == "connection_fee":
        body["rate_per_minute"] = "0"
    raw = json.dumps(body).replace('"__AMOUNT__"', "-0.0")

    status, answer = server_api.post("/calls/start", raw)

    assert status in (200, 201), answer
    assert not any(str(value).startswith("-0") for value in answer.values()), answer
