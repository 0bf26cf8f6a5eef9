"""The license under concurrency (SPEC §4: "also when two people try at the same moment").

On PostgreSQL each scenario runs from 20 threads at once (each closing its connection);
on SQLite, which ignores row locks and queues IMMEDIATE transactions, the same scenarios
run one after the other and must end the same way.
"""

import uuid

import pytest

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import get_license
from callerids.services.callerids import add_callerids, enable_callerid, enable_callerids
from callerids.services.validation import NewCallerID
from credit.checks import counter_failures, ledger_failures
from tenancy.audit import SYSTEM, Actor
from tenancy.models import Reseller
from tests.parallel import in_parallel, in_sequence
from values.errors import LicenseExceeded


def set_license(maximum):
    get_license()
    License.objects.filter(pk=1).update(max_active_callerids=maximum)


def assert_counters_are_real():
    assert counter_failures() == []
    assert list(ledger_failures()) == []
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    assert get_license().active_callerids == enabled


def adds_with_room_for_one(extension, runner):
    set_license(1)
    outcomes = runner(
        [
            lambda i=i: add_callerids(
                actor=SYSTEM, extension=extension, rows=[NewCallerID(f"{5000 + i}")]
            )
            for i in range(20)
        ]
    )
    refused = [o for o in outcomes if isinstance(o, LicenseExceeded)]
    assert len(refused) == 19, outcomes
    assert AuthorizedCallerID.objects.count() == 1
    assert_counters_are_real()


def adds_with_share_room_for_one(extension, reseller, runner):
    set_license(1000)
    Reseller.objects.filter(pk=reseller.pk).update(max_active_callerids=1)
    outcomes = runner(
        [
            lambda i=i: add_callerids(
                actor=SYSTEM, extension=extension, rows=[NewCallerID(f"{5000 + i}")]
            )
            for i in range(20)
        ]
    )
    assert sum(isinstance(o, LicenseExceeded) for o in outcomes) == 19, outcomes
    assert Reseller.objects.get(pk=reseller.pk).active_callerids == 1
    assert_counters_are_real()


def enables_with_room_for_one(extension, user, runner, bulk):
    set_license(20)
    rows = [NewCallerID(f"{6000 + i}") for i in range(10)]
    made = add_callerids(actor=SYSTEM, extension=extension, rows=rows).callerids
    rows = [NewCallerID(f"{7000 + i}") for i in range(10)]
    made += add_callerids(actor=SYSTEM, extension=extension, rows=rows).callerids
    AuthorizedCallerID.objects.update(status=CallerIDStatus.DISABLED)
    License.objects.filter(pk=1).update(active_callerids=0, max_active_callerids=1)
    Reseller.objects.update(active_callerids=0)
    actor = Actor(user=user)
    if bulk:
        calls = [lambda c=c: enable_callerids(actor=actor, ids=[c.pk]) for c in made]
    else:
        calls = [lambda c=c: enable_callerid(actor=actor, callerid=c) for c in made]
    outcomes = runner(calls)
    assert sum(isinstance(o, LicenseExceeded) for o in outcomes) == 19, outcomes
    assert AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count() == 1
    assert_counters_are_real()


def one_add_form_sent_ten_times(extension, user, runner):
    key = uuid.uuid4()
    actor = Actor(user=user)
    rows = [NewCallerID("1001"), NewCallerID("1002")]
    outcomes = runner(
        [
            lambda: add_callerids(actor=actor, extension=extension, rows=rows, one_time_key=key)
            for _ in range(10)
        ]
    )
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(not o.already_applied for o in outcomes) == 1
    first_ids = {tuple(c.pk for c in o.callerids) for o in outcomes}
    assert len(first_ids) == 1
    assert AuthorizedCallerID.objects.count() == 2
    assert_counters_are_real()


# PostgreSQL: 20 threads at once.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_adds_with_room_for_one_let_exactly_one_in(extension_a):
    adds_with_room_for_one(extension_a, in_parallel)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_adds_against_a_share_of_one_let_one_in(extension_a, reseller_a):
    adds_with_share_room_for_one(extension_a, reseller_a, in_parallel)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk", [False, True], ids=["toggle", "bulk"])
def test_twenty_simultaneous_enables_with_room_for_one_enable_one(
    extension_a, reseller_a_user, bulk
):
    enables_with_room_for_one(extension_a, reseller_a_user, in_parallel, bulk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_add_form_sent_ten_times_at_once_adds_once(extension_a, reseller_a_user):
    one_add_form_sent_ten_times(extension_a, reseller_a_user, in_parallel)


# SQLite (and PostgreSQL too): the same scenarios one after the other.


@pytest.mark.django_db
def test_twenty_adds_in_a_row_with_room_for_one_let_exactly_one_in(extension_a):
    adds_with_room_for_one(extension_a, in_sequence)


@pytest.mark.django_db
def test_twenty_adds_in_a_row_against_a_share_of_one_let_one_in(extension_a, reseller_a):
    adds_with_share_room_for_one(extension_a, reseller_a, in_sequence)


@pytest.mark.django_db
@pytest.mark.parametrize("bulk", [False, True], ids=["toggle", "bulk"])
def test_twenty_enables_in_a_row_with_room_for_one_enable_one(extension_a, reseller_a_user, bulk):
    enables_with_room_for_one(extension_a, reseller_a_user, in_sequence, bulk)


@pytest.mark.django_db
def test_one_add_form_sent_ten_times_in_a_row_adds_once(extension_a, reseller_a_user):
    one_add_form_sent_ten_times(extension_a, reseller_a_user, in_sequence)
