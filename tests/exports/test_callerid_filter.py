"""The CallerIDs list search (SPEC §4), used by the page and its exports."""

from decimal import Decimal

import pytest

from callerids.filters import CallerIDFilter, has_credit_q, no_credit_q
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.scope import callerids_for
from tests.exports.helpers import make_callerid, utc


@pytest.fixture
def callerids(extension_a):
    extension_a.min_credit = Decimal("2")
    extension_a.save()
    return {
        "below_minimum": make_callerid(
            extension_a, "+40721000001", available="1.9999", at=utc(2026, 1, 1)
        ),
        "at_minimum": make_callerid(extension_a, "+40721000002", available="2", at=utc(2026, 1, 2)),
        "empty": make_callerid(extension_a, "+40721000003", available="0", at=utc(2026, 1, 3)),
        "unlimited": make_callerid(extension_a, "+40721000004", unlimited=True, at=utc(2026, 1, 4)),
        "removed": make_callerid(
            extension_a,
            "+40721000005",
            available="5",
            status=CallerIDStatus.REMOVED,
            at=utc(2026, 1, 5),
        ),
    }


def numbers(data, queryset=None):
    queryset = queryset if queryset is not None else AuthorizedCallerID.objects.all()
    return [c.number[-1] for c in CallerIDFilter(data, queryset=queryset).qs]


def test_without_data_removed_are_hidden_and_newest_come_first(callerids):
    assert numbers(None) == ["4", "3", "2", "1"]
    assert numbers({}) == ["4", "3", "2", "1"]


def test_no_credit_is_the_api_predicate_and_has_credit_its_complement(callerids):
    assert numbers({"credit": "no_credit"}) == ["3", "1"]
    assert numbers({"credit": "has_credit"}) == ["2"]
    assert numbers({"credit": "unlimited"}) == ["4"]
    limited = set(AuthorizedCallerID.objects.filter(unlimited=False))
    no_credit = set(AuthorizedCallerID.objects.filter(no_credit_q()))
    has_credit = set(AuthorizedCallerID.objects.filter(has_credit_q()))
    assert no_credit | has_credit == limited and not no_credit & has_credit


def test_invalid_values_are_ignored_on_the_page(callerids):
    search = CallerIDFilter(
        {"status": "nope", "sort": "pin_hash"}, queryset=AuthorizedCallerID.objects.all()
    )

    assert not search.is_valid()
    assert [c.number[-1] for c in search.qs] == ["4", "3", "2", "1"]


def test_it_never_widens_the_scoped_queryset(callerids, reseller_b_user):
    assert numbers({"status": "removed"}, callerids_for(reseller_b_user)) == []
