"""The Add credit service: every row of SPEC §6's table, the one-time key, order numbers."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404

from callerids.models import AuthorizedCallerID
from callerids.services.callerids import add_callerids, disable_callerid, remove_callerid
from callerids.services.validation import NewCallerID
from credit.models import LedgerEntry, LedgerKind
from credit.services.recharge import add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.models import AuditEvent
from tenancy.preferences import get_preferences
from values.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def alice(reseller_a_user):
    return Actor(user=reseller_a_user, address="192.0.2.7")


def make(extension, credit=None, unlimited=False, number="1234"):
    row = NewCallerID(number, credit=credit, unlimited=unlimited)
    return add_callerids(actor=SYSTEM, extension=extension, rows=[row]).callerids[0]


@pytest.fixture
def limited(extension_a):
    return make(extension_a, credit=D("10"))


@pytest.fixture
def unlimited(extension_a):
    return make(extension_a, unlimited=True, number="5555")


def last_entry(callerid):
    return LedgerEntry.objects.filter(callerid=callerid).order_by("-id").first()


def ledger_is_clean():
    call_command("check_ledger")


def test_a_positive_amount_recharges_a_limited_callerid(alice, limited):
    result = add_credit(actor=alice, callerid=limited, amount=D("2.50"), order_number=" A1 ")
    assert not result.already_applied
    assert (result.callerid.available, result.callerid.total) == (D("12.5"), D("12.5"))
    entry = last_entry(limited)
    assert entry == result.entry
    assert (entry.kind, entry.amount, entry.balance_after) == ("recharge", D("2.5"), D("12.5"))
    assert (entry.order_number, entry.actor_username) == ("A1", "alice")
    event = AuditEvent.objects.get(action="credit.recharge")
    assert (event.before["available"], event.after["available"]) == ("10.0000", "12.5000")
    assert event.address == "192.0.2.7"
    ledger_is_clean()


def test_a_negative_amount_within_the_balance_is_an_adjustment(alice, limited):
    result = add_credit(actor=alice, callerid=limited.pk, amount=D("-10"))
    assert (result.callerid.available, result.callerid.total) == (D("0"), D("0"))
    assert result.entry.kind == LedgerKind.ADJUSTMENT
    assert result.entry.balance_after == 0
    ledger_is_clean()


def test_removing_more_than_is_left_is_refused_naming_what_is_left(alice, limited):
    add_credit(actor=alice, callerid=limited, amount=D("0.25"))
    with pytest.raises(DomainError, match=r"At most 10\.25 [A-Z]{3} can be removed"):
        add_credit(actor=alice, callerid=limited, amount=D("-10.26"))
    assert LedgerEntry.objects.filter(callerid=limited).count() == 2


def test_unlimited_on_a_limited_callerid_makes_it_unlimited(alice, limited):
    result = add_credit(actor=alice, callerid=limited, unlimited=True)
    assert result.callerid.unlimited
    assert (result.callerid.available, result.callerid.total) == (None, None)
    assert result.entry.kind == LedgerKind.SET_UNLIMITED
    assert (result.entry.amount, result.entry.balance_after) == (None, None)
    ledger_is_clean()


def test_a_negative_amount_on_an_unlimited_callerid_sets_a_limit_of_zero(alice, unlimited):
    result = add_credit(actor=alice, callerid=unlimited, amount=D("-5"))
    callerid = result.callerid
    assert (callerid.unlimited, callerid.available, callerid.total) == (False, 0, 0)
    assert (result.entry.kind, result.entry.amount, result.entry.balance_after) == (
        "set_limited",
        D("-5"),
        D("0"),
    )
    add_credit(actor=alice, callerid=unlimited, amount=D("3"))
    callerid.refresh_from_db()
    assert (callerid.available, callerid.total) == (D("3"), D("3"))
    ledger_is_clean()


@pytest.mark.parametrize("kwargs", [{"amount": D("5")}, {"unlimited": True}])
def test_an_unlimited_callerid_refuses_more_credit(alice, unlimited, kwargs):
    with pytest.raises(DomainError, match="Already unlimited; enter a negative amount"):
        add_credit(actor=alice, callerid=unlimited, **kwargs)
    assert LedgerEntry.objects.filter(callerid=unlimited).count() == 1


@pytest.mark.parametrize("amount", [None, "", D("0"), D("0.00"), 0])
def test_zero_or_empty_is_refused(alice, limited, amount):
    with pytest.raises(DomainError, match="other than 0"):
        add_credit(actor=alice, callerid=limited, amount=amount)
    assert LedgerEntry.objects.filter(callerid=limited).count() == 1


def test_an_amount_and_unlimited_together_are_refused(alice, limited):
    with pytest.raises(DomainError, match="Enter an amount or tick Unlimited, not both"):
        add_credit(actor=alice, callerid=limited, amount=D("1"), unlimited=True)


def test_a_disabled_callerid_may_be_recharged(alice, limited):
    disable_callerid(actor=alice, callerid=limited)
    assert add_credit(actor=alice, callerid=limited, amount=D("1")).callerid.available == 11


@pytest.mark.parametrize("kwargs", [{"amount": D("1")}, {"amount": D("-1")}, {"unlimited": True}])
def test_a_removed_callerid_refuses_everything(alice, limited, kwargs):
    remove_callerid(actor=alice, callerid=limited)
    with pytest.raises(DomainError, match="This CallerID was removed"):
        add_credit(actor=alice, callerid=limited, **kwargs)


def test_more_decimals_than_shown_and_commas_are_refused(alice, limited):
    with pytest.raises(DomainError, match="at most 2 decimals"):
        add_credit(actor=alice, callerid=limited, amount=D("1.001"))
    prefs = get_preferences()
    prefs.decimals = 4
    prefs.save()
    assert add_credit(actor=alice, callerid=limited, amount=D("1.0001")).callerid.available == (
        D("11.0001")
    )
    with pytest.raises(DomainError):
        add_credit(actor=alice, callerid=limited, amount=1.5)  # never a float


def test_one_operation_moves_at_most_one_million(alice, limited):
    with pytest.raises(DomainError, match="at most 1,000,000"):
        add_credit(actor=alice, callerid=limited, amount=D("1000000.01"))
    add_credit(actor=alice, callerid=limited, amount=D("1000000"))


def test_a_balance_holds_at_most_the_maximum(alice, limited):
    AuthorizedCallerID.objects.filter(pk=limited.pk).update(
        available=D("9999999999.9999"), total=D("9999999999.9999")
    )
    with pytest.raises(DomainError, match=r"at most 9,999,999,999\.99 [A-Z]{3}\."):
        add_credit(actor=alice, callerid=limited, amount=D("0.01"))


def test_granting_unlimited_needs_the_right(reseller_b_user, extension_b, alice, limited):
    theirs = make(extension_b, credit=D("1"))
    with pytest.raises(NotAllowed):
        add_credit(actor=Actor(user=reseller_b_user), callerid=theirs, unlimited=True)
    theirs.refresh_from_db()
    assert not theirs.unlimited
    assert add_credit(actor=alice, callerid=limited, unlimited=True).callerid.unlimited


def test_another_resellers_callerid_is_not_found_and_staff_may_not_write(
    alice, extension_b, staff_a_user, limited
):
    theirs = make(extension_b, credit=D("1"))
    with pytest.raises(Http404):
        add_credit(actor=alice, callerid=theirs, amount=D("1"))
    with pytest.raises(PermissionDenied):
        add_credit(actor=Actor(user=staff_a_user), callerid=limited, amount=D("1"))
    assert LedgerEntry.objects.count() == 2


def test_a_resent_form_applies_once_and_returns_the_first_outcome(alice, limited):
    key = uuid.uuid4()
    first = add_credit(actor=alice, callerid=limited, amount=D("1"), one_time_key=key)
    again = add_credit(actor=alice, callerid=limited, amount=D("1"), one_time_key=str(key))
    assert again.already_applied
    assert again.entry == first.entry
    assert again.applied_at == first.entry.created_at
    assert again.callerid.available == D("11")
    with pytest.raises(DomainError, match="another CallerID"):
        add_credit(
            actor=alice,
            callerid=make(limited.extension, number="7777"),
            amount=D("1"),
            one_time_key=key,
        )


def test_a_refused_form_can_be_corrected_and_sent_with_the_same_key(alice, limited):
    key = uuid.uuid4()
    with pytest.raises(DomainError):
        add_credit(actor=alice, callerid=limited, amount=D("-20"), one_time_key=key)
    assert add_credit(actor=alice, callerid=limited, amount=D("-2"), one_time_key=key).entry


def test_an_order_number_applies_once_per_callerid(alice, limited, extension_a):
    entry = add_credit(actor=alice, callerid=limited, amount=D("1"), order_number="ORD-9").entry
    day = entry.created_at.astimezone().strftime("%Y-%m-%d")
    with pytest.raises(DomainError, match=f"^.'Order ORD-9 was already applied on {day}"):
        add_credit(actor=alice, callerid=limited, amount=D("1"), order_number=" ORD-9")
    # case-sensitive, and per CallerID
    add_credit(actor=alice, callerid=limited, amount=D("1"), order_number="ord-9")
    other = make(extension_a, credit=D("0"), number="4444")
    add_credit(actor=alice, callerid=other, amount=D("1"), order_number="ORD-9")
    with pytest.raises(DomainError, match="at most 64"):
        add_credit(actor=alice, callerid=limited, amount=D("1"), order_number="x" * 65)


def test_an_initial_order_number_counts_as_applied(alice, extension_a):
    row = NewCallerID("1234", credit=D("1"), order_number="INIT-1")
    callerid = add_callerids(actor=alice, extension=extension_a, rows=[row]).callerids[0]
    with pytest.raises(DomainError, match="Order INIT-1 was already applied"):
        add_credit(actor=alice, callerid=callerid, amount=D("1"), order_number="INIT-1")


def test_point_three_minus_point_one_minus_point_two_is_exactly_zero(alice, extension_a):
    callerid = make(extension_a, credit=D("0.3"))
    add_credit(actor=alice, callerid=callerid, amount=D("-0.1"))
    result = add_credit(actor=alice, callerid=callerid, amount=D("-0.2"))
    assert result.callerid.available == D("0")
    callerid.refresh_from_db()
    assert callerid.available == D("0") and str(callerid.available) in ("0.0000", "0")
    with pytest.raises(DomainError, match=r"At most 0\.00 [A-Z]{3} can be removed"):
        add_credit(actor=alice, callerid=callerid, amount=D("-0.01"))
    ledger_is_clean()


def test_total_is_the_sum_of_grants_since_the_last_set_limited(alice, extension_a):
    callerid = make(extension_a, credit=D("5"))
    add_credit(actor=alice, callerid=callerid, amount=D("7"))
    add_credit(actor=alice, callerid=callerid, amount=D("-2"))
    add_credit(actor=alice, callerid=callerid, unlimited=True)
    add_credit(actor=alice, callerid=callerid, amount=D("-1"))
    add_credit(actor=alice, callerid=callerid, amount=D("4"))
    callerid.refresh_from_db()
    assert (callerid.available, callerid.total) == (D("4"), D("4"))
    kinds = list(LedgerEntry.objects.filter(callerid=callerid).values_list("kind", flat=True))
    assert kinds == [
        "initial",
        "recharge",
        "adjustment",
        "set_unlimited",
        "set_limited",
        "recharge",
    ]
    ledger_is_clean()
