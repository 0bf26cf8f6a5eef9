"""Credit under concurrency (SPEC §6): the balance is the sum of the accepted operations to
the last 0.0001, never negative; a one-time key and an order number apply once.

On PostgreSQL from 20 threads at once (each closing its connection); on SQLite the same
scenarios one after the other, with the same balances.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from callerids.models import AuthorizedCallerID
from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.models import LedgerEntry
from credit.services.recharge import CreditResult, add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.preferences import get_preferences
from tests.parallel import in_parallel, in_sequence
from values.errors import DomainError

D = Decimal


def new_callerid(extension, credit):
    prefs = get_preferences()
    prefs.decimals = 4
    prefs.save()
    row = NewCallerID("1234", credit=credit)
    return add_callerids(actor=SYSTEM, extension=extension, rows=[row]).callerids[0]


def operation_amounts():
    """100 recharges and 100 removals, interleaved, with 4 awkward decimals each."""
    amounts = []
    for i in range(100):
        amounts.append(D(i + 1) / D(7))
        amounts.append(-D(i + 3) / D(6))
    return [a.quantize(D("0.0001")) for a in amounts]


def recharges_and_adjustments(extension, user, runner):
    """100 recharges and 100 removals, interleaved; some removals may find too little."""
    callerid = new_callerid(extension, D("1"))
    actor = Actor(user=user)
    amounts = operation_amounts()
    calls = [lambda a=a: add_credit(actor=actor, callerid=callerid.pk, amount=a) for a in amounts]
    outcomes = runner(calls)
    accepted = [a for a, o in zip(amounts, outcomes, strict=True) if isinstance(o, CreditResult)]
    refused = [o for o in outcomes if not isinstance(o, CreditResult)]
    assert all(isinstance(o, DomainError) and "can be removed" in o.messages[0] for o in refused), (
        refused
    )
    callerid.refresh_from_db()
    assert callerid.available == D("1") + sum(accepted)
    assert callerid.total == D("1") + sum(accepted)
    balances = LedgerEntry.objects.filter(callerid=callerid).values_list("balance_after", flat=True)
    assert len(balances) == 1 + len(accepted)
    assert min(balances) >= 0
    call_command("check_ledger")
    return callerid.available, len(accepted)


def one_key_sent_ten_times(extension, user, runner):
    callerid = new_callerid(extension, D("0"))
    key = uuid.uuid4()
    actor = Actor(user=user)
    outcomes = runner(
        [
            lambda: add_credit(actor=actor, callerid=callerid.pk, amount=D("2.5"), one_time_key=key)
            for _ in range(10)
        ]
    )
    assert all(isinstance(o, CreditResult) for o in outcomes), outcomes
    assert sum(not o.already_applied for o in outcomes) == 1
    assert len({o.entry.pk for o in outcomes}) == 1
    assert AuthorizedCallerID.objects.get(pk=callerid.pk).available == D("2.5")
    call_command("check_ledger")


def one_order_number_sent_ten_times(extension, user, runner):
    callerid = new_callerid(extension, D("0"))
    actor = Actor(user=user)
    outcomes = runner(
        [
            lambda: add_credit(
                actor=actor, callerid=callerid.pk, amount=D("3"), order_number="ORD-1"
            )
            for _ in range(10)
        ]
    )
    applied = [o for o in outcomes if isinstance(o, CreditResult)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(applied) == 1 and len(refused) == 9, outcomes
    assert all("Order ORD-1 was already applied on" in o.messages[0] for o in refused)
    assert AuthorizedCallerID.objects.get(pk=callerid.pk).available == D("3")
    call_command("check_ledger")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_recharges_and_removals_sum_exactly_and_never_go_negative(
    extension_a, reseller_a_user
):
    recharges_and_adjustments(extension_a, reseller_a_user, in_parallel)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_sent_ten_times_at_once_applies_once(extension_a, reseller_a_user):
    one_key_sent_ten_times(extension_a, reseller_a_user, in_parallel)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_order_number_sent_ten_times_at_once_applies_once(extension_a, reseller_a_user):
    one_order_number_sent_ten_times(extension_a, reseller_a_user, in_parallel)


@pytest.mark.django_db
def test_recharges_and_removals_in_a_row_end_at_the_exact_sum(extension_a, reseller_a_user):
    available, accepted = recharges_and_adjustments(extension_a, reseller_a_user, in_sequence)
    expected, count = D("1"), 0
    for amount in operation_amounts():  # what a careful clerk would get, in Decimal
        if expected + amount >= 0:
            expected, count = expected + amount, count + 1
    assert (available, accepted) == (expected, count)


@pytest.mark.django_db
def test_one_key_sent_ten_times_in_a_row_applies_once(extension_a, reseller_a_user):
    one_key_sent_ten_times(extension_a, reseller_a_user, in_sequence)


@pytest.mark.django_db
def test_one_order_number_sent_ten_times_in_a_row_applies_once(extension_a, reseller_a_user):
    one_order_number_sent_ten_times(extension_a, reseller_a_user, in_sequence)


@pytest.mark.django_db
def test_point_three_minus_point_one_minus_point_two_ends_at_exactly_zero(
    extension_a, reseller_a_user
):
    callerid = new_callerid(extension_a, D("0.3"))
    actor = Actor(user=reseller_a_user)
    in_sequence(
        [
            lambda: add_credit(actor=actor, callerid=callerid.pk, amount=D("-0.1")),
            lambda: add_credit(actor=actor, callerid=callerid.pk, amount=D("-0.2")),
        ]
    )
    callerid.refresh_from_db()
    assert callerid.available == D("0")
    assert LedgerEntry.objects.filter(callerid=callerid).last().balance_after == D("0")
    call_command("check_ledger")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_recharge_and_a_status_change_of_the_same_callerid_do_not_deadlock(
    extension_a, reseller_a_user
):
    """The recharge holds the CallerID and writes an audit row pointing at the reseller
    (PostgreSQL takes a key-share lock on it); a status change holds the reseller and waits
    for the CallerID. The reseller lock must not block that key-share lock."""
    import threading
    import time

    from django.db import transaction

    from callerids.selectors import lock_callerid
    from callerids.services.license import lock_counters

    callerid = new_callerid(extension_a, D("1"))
    reseller_id = extension_a.organization.reseller_id
    counters_held = threading.Event()

    def status_change():
        try:
            with transaction.atomic():
                lock_counters([reseller_id])
                counters_held.set()
                time.sleep(0.5)  # the recharge takes the CallerID meanwhile
                lock_callerid(callerid.pk)
            return "status change done"
        finally:
            connection.close()

    def recharge():
        try:
            assert counters_held.wait(5)
            actor = Actor(user=reseller_a_user)
            return add_credit(actor=actor, callerid=callerid.pk, amount=D("2"))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run) for run in (status_change, recharge)]
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result())
        except Exception as exc:  # a deadlock is the failure under test
            outcomes.append(exc)
    assert outcomes[0] == "status change done", outcomes
    assert isinstance(outcomes[1], CreditResult), outcomes
