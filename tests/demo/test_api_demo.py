"""demo.credit.seed: demo calls charged through the call service, and a demo token."""

from decimal import Decimal
from io import StringIO

import pytest

from callback.models import CallbackExtension, ReturnMode
from credit.models import Call, LedgerEntry, LedgerKind
from demo import credit as demo
from tenancy.models import ApiToken
from tests.api.conftest import add_callerid

pytestmark = pytest.mark.django_db


def seed():
    out = StringIO()
    demo.seed(out)
    return out.getvalue()


def test_it_reports_calls_once_and_prints_the_token_once(extension_a, org_a):
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("1.5"))
    CallbackExtension.objects.create(
        organization=org_a, number="0003*003", return_mode=ReturnMode.CALLER
    )
    first = seed()
    assert "Demo API token" in first and "cbm_" in first
    assert Call.objects.filter(callerid=callerid).count() == demo.CALLS_PER_CALLERID
    assert Call.objects.filter(metered=False).count() == demo.UNMETERED_CALLS_PER_EXTENSION
    second = seed()
    assert "cbm_" not in second
    assert Call.objects.count() == demo.CALLS_PER_CALLERID + demo.UNMETERED_CALLS_PER_EXTENSION
    assert ApiToken.objects.count() == 1
    # Charged like the API charges: the ledger follows the balance.
    callerid.refresh_from_db()
    calls = LedgerEntry.objects.filter(callerid=callerid, kind=LedgerKind.CALL)
    assert calls.count() == demo.CALLS_PER_CALLERID
    assert Decimal("1.5") + sum(e.amount for e in calls) == callerid.available
    assert calls.order_by("id").last().balance_after == callerid.available


def test_without_callerids_it_only_adds_unmetered_calls(extension_a):
    seed()
    assert not Call.objects.exists()  # extension_a uses the list, which is empty
