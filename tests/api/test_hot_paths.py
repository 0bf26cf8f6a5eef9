"""The API's hot paths (issue 12): few queries, prepared statements, cached preferences —
and the same answers as the ORM and the scoping module give."""

from decimal import Decimal

import pytest
from django.db import connection

from api.auth import authenticate_token
from api.authorize import _lookup
from callback.models import CallbackExtension
from callback.scope import extensions_for_token
from credit.models import Call, LedgerEntry, LedgerKind
from credit.services.holds import extension_in_scope as _extension_id
from tenancy import preferences as selectors
from tenancy.models import ApiToken, ChargingPreferences
from tests.api.conftest import UNLIMITED, add_callerid

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"


def authorize(api, caller=CALLER, extension="0003*001"):
    return api.post("/callback/authorize", {"extension": extension, "caller_id": caller})


def report(api, callerid, call_id="pbx1-1", cost="0.4167"):
    return api.post(
        "/calls",
        {
            "call_id": call_id,
            "extension": "0003*001",
            "callerid_id": callerid if callerid is None else callerid.pk,
            "caller_id": CALLER,
            "destination": "+4031000000",
            "started_at": "2026-11-26T10:00:00Z",
            "duration_seconds": 125,
            "cost": cost,
        },
    )


def test_authorize_asks_the_database_once(server_api, extension_a, django_assert_num_queries):
    add_callerid(extension_a, CALLER)
    authorize(server_api)  # records the token's last use, prepares the statements
    with django_assert_num_queries(1):  # the token, the extension, its owners, the CallerID
        assert authorize(server_api)[1]["decision"] == "callback"


def test_a_call_report_asks_the_database_a_handful_of_times(
    server_api, extension_a, django_assert_max_num_queries
):
    callerid = add_callerid(extension_a, CALLER)
    report(server_api, callerid, call_id="warm-up")
    # The token, the CallerID locked on its extension in scope, its holds (one statement on
    # PostgreSQL that also expires overdue ones, two on SQLite), the writes (one statement on
    # PostgreSQL with the panel home's day and credit totals; on SQLite three, then a read
    # and a write of each of those rows); in a test the service's transaction is a
    # savepoint (SAVEPOINT and RELEASE count), in production a BEGIN/COMMIT that does not.
    bound = 6 if connection.vendor == "postgresql" else 13
    with django_assert_max_num_queries(bound):
        assert report(server_api, callerid)[0] == 201


@pytest.mark.postgres
def test_a_started_call_is_settled_in_the_same_statement_as_its_charge(
    server_api, extension_a, django_assert_num_queries
):
    from credit.models import CallDay, CallHold, HoldStatus
    from tests.api.test_calls_start import report_body, start_body

    callerid = add_callerid(extension_a, CALLER, credit=Decimal("5"))
    for call_id in ("warm-up", "held"):  # the first prepares the statements
        assert server_api.post("/calls/start", start_body(callerid, call_id=call_id))[0] == 201
        if call_id == "warm-up":
            assert server_api.post("/calls", report_body(callerid, call_id=call_id))[0] == 201
    # The token, the lock, the holds, ONE statement for every write (the call, its ledger
    # row, the balance, the hold settled, the day, the totals), SAVEPOINT and RELEASE.
    with django_assert_num_queries(6):
        status, answer = server_api.post("/calls", report_body(callerid, call_id="held"))
    assert (status, answer["charged"]) == (201, "0.1000")
    hold = CallHold.objects.get(call_id="held")
    call = Call.objects.get(call_id="held")
    assert (hold.status, hold.settled_call_id) == (HoldStatus.SETTLED, call.pk)
    assert hold.closed_at is not None
    day = CallDay.objects.get(reseller=extension_a.organization.reseller)
    assert (day.calls, day.charged) == (2, Decimal("0.2000"))


def test_the_extension_lookups_agree_with_the_scoping_module(
    make_token, preferences, reseller_a, reseller_b, extension_a, extension_b
):
    CallbackExtension.objects.create(organization=extension_a.organization, number="0003*002")
    for reseller in (None, reseller_a, reseller_b):
        token = authenticate_token(make_token(reseller), address=None)
        for number in ("0003*001", "0003*002", "0004*001", "0009*999"):
            in_scope = extensions_for_token(token).filter(number=number).exists()
            assert (_lookup(token, number, None) is not None) is in_scope
            try:
                found = _extension_id(token, number)
            except CallbackExtension.DoesNotExist:
                found = None
            assert (found is not None) is in_scope


def test_the_api_token_carries_what_the_rules_read(make_token, reseller_a):
    token = authenticate_token(make_token(reseller_a, name="pbx-acme"), address="192.0.2.1")
    stored = ApiToken.objects.get()
    assert (token.pk, token.name, token.prefix, token.reseller_id) == (
        stored.pk,
        "pbx-acme",
        stored.prefix,
        reseller_a.pk,
    )
    assert token.last_used_at == stored.last_used_at
    assert token.last_used_address == stored.last_used_address == "192.0.2.1"


def test_the_call_and_its_ledger_row_are_written_as_the_orm_would(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1"))
    assert report(server_api, callerid, cost="1.5")[1]["shortfall"] == "0.5000"
    call = Call.objects.get()
    entry = LedgerEntry.objects.get(call=call)
    assert (entry.callerid_id, entry.kind, entry.amount, entry.balance_after) == (
        callerid.pk,
        LedgerKind.CALL,
        Decimal("-1"),
        Decimal("0"),
    )
    assert (entry.actor_id, entry.actor_username, entry.order_number) == (None, "token:pbx1", "")
    assert entry.created_at == call.created_at and call.created_at is not None
    callerid.refresh_from_db()
    assert callerid.available == Decimal("0")


def test_an_unlimited_call_writes_no_balance(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=UNLIMITED)
    assert report(server_api, callerid)[1]["available"] is None
    assert LedgerEntry.objects.get(kind=LedgerKind.CALL).balance_after is None
    callerid.refresh_from_db()
    assert (callerid.unlimited, callerid.available) == (True, None)


def test_the_largest_balance_reads_and_charges_exactly(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("9999999999.9999"))
    assert authorize(server_api)[1]["credit"]["available"] == "9999999999.9999"
    assert report(server_api, callerid, cost="0.0001")[1]["available"] == "9999999999.9998"
    assert authorize(server_api)[1]["credit"]["available"] == "9999999999.9998"


def test_a_preferences_change_in_this_process_is_seen_at_once(server_api, extension_a):
    add_callerid(extension_a, CALLER)
    assert authorize(server_api)[1]["credit"]["currency"] == "EUR"
    preferences = selectors.get_preferences()
    preferences.currency = "USD"
    preferences.save()
    assert authorize(server_api)[1]["credit"]["currency"] == "USD"


def test_a_change_made_elsewhere_is_seen_within_the_cache_time(
    server_api, extension_a, monkeypatch
):
    add_callerid(extension_a, CALLER)
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    selectors.forget_cached_preferences()
    assert authorize(server_api)[1]["credit"]["currency"] == "EUR"
    # Another process saves: no signal reaches this one.
    ChargingPreferences.objects.filter(pk=1).update(currency="USD")
    assert authorize(server_api)[1]["credit"]["currency"] == "EUR"
    clock[0] += selectors.PREFERENCES_CACHE_SECONDS + 0.1
    assert authorize(server_api)[1]["credit"]["currency"] == "USD"
