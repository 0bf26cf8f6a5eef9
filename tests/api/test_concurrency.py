"""Money and the PIN lock under simultaneous requests, on PostgreSQL (row locks are real).

Each test fires requests from a pool of at most 20 threads; each thread closes its own
database connection when done (other helpers share the server's 100 connections).
"""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import lock_callerid
from credit import ledger
from credit.models import Call, LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import AuditEvent
from tests.api.conftest import ApiClient, add_callerid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MAX_THREADS = 20


def in_parallel(work, items):
    def run(item):
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        return list(pool.map(run, items))


def call_report(callerid_id, call_id, cost="0.05"):
    return {
        "call_id": call_id,
        "extension": "0003*001",
        "callerid_id": callerid_id,
        "caller_id": "+40721000123",
        "destination": "+4031000000",
        "started_at": "2026-11-26T10:00:00Z",
        "duration_seconds": 30,
        "cost": cost,
    }


def assert_ledger_consistent(callerid):
    """Every row's balance = previous + amount; the CallerID's available = the last row's."""
    callerid.refresh_from_db()
    rows = list(LedgerEntry.objects.filter(callerid=callerid).order_by("id"))
    balance = None
    for row in rows:
        if row.kind != LedgerKind.INITIAL:
            assert row.balance_after == balance + row.amount, row
        balance = row.balance_after
        assert balance >= 0
    assert callerid.available == balance
    return rows


def recharge(callerid_id, amount):
    """A recharge as the credit services write it: under the CallerID's row lock."""
    with transaction.atomic():
        callerid = lock_callerid(callerid_id)
        balance = callerid.available + amount
        ledger.append(
            callerid=callerid,
            kind=LedgerKind.RECHARGE,
            amount=amount,
            balance_after=balance,
            actor=SYSTEM,
        )
        callerid.available = balance
        callerid.total += amount
        callerid.save(update_fields=["available", "total"])


def test_200_simultaneous_calls_never_overspend(make_token, preferences, extension_a):
    token = make_token()
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("5.00"))

    def report(n):
        return ApiClient(token).post("/calls", call_report(callerid.pk, f"c-{n}"))

    answers = in_parallel(report, range(200))
    assert {status for status, _ in answers} == {201}
    charged = [Decimal(body["charged"]) for _, body in answers]
    shortfall = [Decimal(body["shortfall"]) for _, body in answers]
    assert charged.count(Decimal("0.05")) == 100
    assert charged.count(Decimal("0")) == 100
    assert sum(charged) == Decimal("5.00")
    assert sum(shortfall) == Decimal("5.00")
    rows = assert_ledger_consistent(callerid)
    assert callerid.available == Decimal("0.0000")
    assert sum(r.amount for r in rows if r.kind == LedgerKind.CALL) == Decimal("-5.00")
    assert rows[-1].balance_after == callerid.available
    assert Call.objects.count() == 200


def test_calls_and_recharges_mixed_add_up(make_token, preferences, extension_a):
    token = make_token()
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("5.00"))
    recharges = [Decimal("0.25")] * 20

    def work(n):
        if n % 10 == 0:
            recharge(callerid.pk, recharges[n // 10])
            return None
        return ApiClient(token).post("/calls", call_report(callerid.pk, f"m-{n}", "0.07"))

    answers = [a for a in in_parallel(work, range(200)) if a is not None]
    assert len(answers) == 180
    assert {status for status, _ in answers} == {201}
    charged = sum(Decimal(body["charged"]) for _, body in answers)
    shortfall = sum(Decimal(body["shortfall"]) for _, body in answers)
    assert charged + shortfall == Decimal("0.07") * 180
    rows = assert_ledger_consistent(callerid)
    assert charged == Decimal("5.00") + sum(recharges) - callerid.available
    assert callerid.available >= 0
    assert -sum(r.amount for r in rows if r.kind == LedgerKind.CALL) == charged


def test_one_call_reported_10_times_at_once_is_charged_once(make_token, preferences, extension_a):
    token = make_token()
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("5.00"))
    report = call_report(callerid.pk, "dup-1", "1.2345")
    answers = in_parallel(lambda _: ApiClient(token).post("/calls", report), range(10))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 9 + [201]
    assert len({tuple(sorted(body.items())) for _, body in answers}) == 1
    assert answers[0][1]["available"] == "3.7655"
    assert Call.objects.count() == 1
    assert_ledger_consistent(callerid)
    assert callerid.available == Decimal("3.7655")


def test_one_unmetered_call_reported_10_times_at_once_is_recorded_once(
    make_token, preferences, extension_a
):
    token = make_token()
    report = call_report(None, "dup-unmetered", "2")
    answers = in_parallel(lambda _: ApiClient(token).post("/calls", report), range(10))
    assert sorted(status for status, _ in answers) == [200] * 9 + [201]
    assert Call.objects.count() == 1


def test_20_simultaneous_wrong_pins_count_exactly_to_the_limit(
    make_token, preferences, extension_a
):
    token = make_token()
    callerid = add_callerid(extension_a, "+40721000123", pin="1234")
    assert License.objects.get().active_callerids == 1

    def wrong(_):
        return ApiClient(token).post(
            "/callback/verify-pin", {"callerid_id": callerid.pk, "pin": "0000"}
        )

    answers = [body for _, body in in_parallel(wrong, range(20))]
    invalid = sorted(a["attempts_left"] for a in answers if a["result"] == "pin_invalid")
    assert invalid == [1, 2, 3, 4]
    assert sum(a["result"] == "locked" for a in answers) == 16
    callerid.refresh_from_db()
    assert (callerid.wrong_pin_count, callerid.status, callerid.status_reason) == (
        5,
        CallerIDStatus.DISABLED,
        "locked",
    )
    assert AuditEvent.objects.filter(action="callerid.lock").count() == 1
    assert License.objects.get().active_callerids == 0
    reseller = extension_a.organization.reseller
    reseller.refresh_from_db()
    assert reseller.active_callerids == 0


def test_pin_lockouts_and_enables_at_once_do_not_deadlock(
    make_token, preferences, extension_a, admin_user
):
    """The lockout takes License -> Reseller -> CallerID like enabling does."""
    from callerids.services.callerids import disable_callerids, enable_callerids
    from tenancy.audit import Actor

    token = make_token()
    locking = [add_callerid(extension_a, f"+4072100{n:04d}", pin="1234") for n in range(5)]
    toggled = [add_callerid(extension_a, f"+4072200{n:04d}") for n in range(5)]
    actor = Actor(user=admin_user)

    def work(n):
        if n % 4 == 0:
            ids = [c.pk for c in toggled]
            (enable_callerids if n % 8 == 0 else disable_callerids)(actor=actor, ids=ids)
            return None
        target = locking[n % len(locking)]
        return ApiClient(token).post(
            "/callback/verify-pin", {"callerid_id": target.pk, "pin": "0000"}
        )

    in_parallel(work, range(120))
    assert set(
        AuthorizedCallerID.objects.filter(pk__in=[c.pk for c in locking]).values_list(
            "status_reason", flat=True
        )
    ) == {"locked"}
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    assert License.objects.get().active_callerids == enabled
