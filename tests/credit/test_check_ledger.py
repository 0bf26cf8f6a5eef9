"""manage.py check_ledger (SPEC §6.1): OK on a clean ledger, names each CallerID that fails."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from callerids.models import AuthorizedCallerID, License
from callerids.selectors import lock_callerid
from credit import ledger
from credit.models import LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import Reseller
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


def run() -> str:
    out = StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


def run_failing() -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check_ledger", stdout=out)
    return out.getvalue(), str(caught.value)


@pytest.fixture
def callerids(extension_a):
    made = [
        factories.callerid(extension_a, "1001", credit="10"),
        factories.callerid(extension_a, "1002", unlimited=True),
        factories.callerid(extension_a, "1003", credit=None),
    ]
    factories.recharge(made[0], "2.5")
    factories.recharge(made[1], "-1")
    factories.recharge(made[1], unlimited=True)
    return made


def charge(callerid, amount):
    """A call row the way the calls service writes it: lock, compute, append, save."""
    with transaction.atomic():
        locked = lock_callerid(callerid.pk)
        if locked.unlimited:
            ledger.append(
                callerid=locked,
                kind=LedgerKind.CALL,
                amount=-amount,
                balance_after=None,
                actor=SYSTEM,
            )
            return
        balance = locked.available - amount
        ledger.append(
            callerid=locked,
            kind=LedgerKind.CALL,
            amount=-amount,
            balance_after=balance,
            actor=SYSTEM,
        )
        locked.available = balance
        locked.save(update_fields=["available"])


def test_it_prints_ok_on_a_clean_ledger_with_calls(callerids):
    charge(callerids[0], D("0.4167"))
    charge(callerids[1], D("3"))
    assert "OK" in run()


def test_it_names_a_callerid_whose_balance_was_tampered_with(callerids):
    AuthorizedCallerID.objects.filter(pk=callerids[0].pk).update(available=D("99"))
    out, error = run_failing()
    assert f"CallerID #{callerids[0].pk} 1001" in out
    assert "available credit 99" in out and "the ledger says 12.5" in out
    assert "1 CallerID(s)" in error
    assert f"#{callerids[2].pk}" not in out


def test_it_names_a_ledger_row_that_does_not_add_up(callerids):
    entry = LedgerEntry.objects.filter(callerid=callerids[2]).get()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1"))
    out, _ = run_failing()
    assert f"CallerID #{callerids[2].pk} 1003" in out
    assert f"ledger row #{entry.pk} (initial): balance 0.0000, expected 1" in out


def test_it_catches_a_wrong_total_and_a_wrong_unlimited_flag(callerids):
    AuthorizedCallerID.objects.filter(pk=callerids[0].pk).update(total=D("13"))
    AuthorizedCallerID.objects.filter(pk=callerids[1].pk).update(
        unlimited=False, available=D("0"), total=D("0")
    )
    out, error = run_failing()
    assert "total credit 13.0000, the ledger says 12.5" in out
    assert f"#{callerids[1].pk}" in out and "unlimited is False" in out
    assert "2 CallerID(s)" in error


def test_it_catches_a_callerid_without_ledger_rows(callerids):
    orphan = AuthorizedCallerID.objects.create(
        extension=callerids[0].extension, number="2000", available=D("0"), total=D("0")
    )
    out, _ = run_failing()
    assert f"CallerID #{orphan.pk} 2000" in out and "no ledger rows" in out


def test_it_catches_counters_that_drift_from_the_enabled_callerids(callerids, reseller_a):
    License.objects.filter(pk=1).update(active_callerids=7)
    Reseller.objects.filter(pk=reseller_a.pk).update(active_callerids=1)
    out, error = run_failing()
    assert "License: counter says 7 active CallerIDs, 3 are enabled" in out
    assert "Reseller A: counter says 1 active CallerIDs, 3 are enabled" in out
    assert "2 counter(s)" in error


@pytest.mark.parametrize(
    ("kind", "amount", "expected"),
    [
        (LedgerKind.RECHARGE, D("-1"), "a recharge must add credit"),
        (LedgerKind.ADJUSTMENT, D("1"), "an adjustment must remove credit"),
        (LedgerKind.CALL, D("1"), "a call cannot add credit"),
    ],
)
def test_it_catches_a_row_whose_amount_has_the_wrong_sign_for_its_kind(
    callerids, kind, amount, expected
):
    """The balances still add up; only the kind says the row is wrong (SPEC §6.1)."""
    callerid = callerids[0]
    entry = LedgerEntry.objects.create(
        callerid=callerid, kind=kind, amount=amount, balance_after=D("12.5") + amount
    )
    grants = amount if kind != LedgerKind.CALL else 0
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(
        available=D("12.5") + amount, total=D("12.5") + grants
    )
    out, _ = run_failing()
    assert f"ledger row #{entry.pk} ({kind}): {expected}" in out


def test_it_catches_set_limited_on_a_limited_callerid_and_set_unlimited_twice(callerids):
    limited, unlimited = callerids[0], callerids[1]
    wrong_limit = LedgerEntry.objects.create(
        callerid=limited, kind=LedgerKind.SET_LIMITED, amount=D("-1"), balance_after=D("0")
    )
    AuthorizedCallerID.objects.filter(pk=limited.pk).update(available=D("0"), total=D("0"))
    twice = LedgerEntry.objects.create(
        callerid=unlimited, kind=LedgerKind.SET_UNLIMITED, amount=None, balance_after=None
    )
    out, error = run_failing()
    assert f"ledger row #{wrong_limit.pk} (set_limited): only an Unlimited CallerID" in out
    assert f"ledger row #{twice.pk} (set_unlimited): already Unlimited" in out
    assert "2 CallerID(s)" in error
