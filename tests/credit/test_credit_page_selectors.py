"""The recharge history's reads: rows newest first and the calls between them, summed in
one query, exactly (4 decimals, no floating-point drift on SQLite)."""

from decimal import Decimal

import pytest

from credit.models import LedgerEntry, LedgerKind
from credit.selectors_history import CallsSummary, calls_after, recharge_history
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def callerid(extension_a):
    return factories.callerid(extension_a, "+40721000123", credit="100")


@pytest.fixture
def other(extension_a):
    return factories.callerid(extension_a, "+40721000999", credit="100")


def add(callerid, kind, amount):
    return LedgerEntry.objects.create(
        callerid=callerid, kind=kind, amount=D(amount), balance_after=D("1")
    )


def test_the_history_is_every_row_but_calls_newest_first(callerid):
    initial = LedgerEntry.objects.get(callerid=callerid)
    add(callerid, LedgerKind.CALL, "-1")
    recharge = add(callerid, LedgerKind.RECHARGE, "5")
    assert list(recharge_history(callerid)) == [recharge, initial]


def test_calls_are_grouped_under_the_row_before_them(callerid, other):
    initial = LedgerEntry.objects.get(callerid=callerid)
    add(callerid, LedgerKind.CALL, "-0.1")
    add(other, LedgerKind.CALL, "-50")  # another CallerID's call, in between
    add(callerid, LedgerKind.CALL, "-0.2")
    recharge = add(callerid, LedgerKind.RECHARGE, "5")
    adjustment = add(callerid, LedgerKind.ADJUSTMENT, "-1")
    add(callerid, LedgerKind.CALL, "-0.3")
    assert calls_after(callerid, [initial.pk, recharge.pk, adjustment.pk]) == {
        initial.pk: CallsSummary(D("-0.3"), 2),
        adjustment.pk: CallsSummary(D("-0.3"), 1),
    }


def test_the_calls_of_rows_hidden_by_a_search_are_not_counted(callerid):
    initial = LedgerEntry.objects.get(callerid=callerid)
    add(callerid, LedgerKind.CALL, "-1")
    hidden = add(callerid, LedgerKind.RECHARGE, "5")
    add(callerid, LedgerKind.CALL, "-2")
    add(callerid, LedgerKind.CALL, "-2")
    shown = add(callerid, LedgerKind.RECHARGE, "5")
    assert calls_after(callerid, [initial.pk, shown.pk]) == {initial.pk: CallsSummary(D("-1"), 1)}
    assert calls_after(callerid, [hidden.pk])[hidden.pk] == CallsSummary(D("-4"), 2)


def test_many_small_calls_add_up_exactly(callerid):
    initial = LedgerEntry.objects.get(callerid=callerid)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(callerid=callerid, kind=LedgerKind.CALL, amount=D(a), balance_after=D("1"))
        for a in ["-0.1", "-0.2", "-0.0001", "-999999.9999"] * 250
    )
    summary = calls_after(callerid, [initial.pk])[initial.pk]
    assert summary == CallsSummary(D("-250000075.0000"), 1000)
    assert summary.text == "calls: \u2212250000075.0000 (1000 calls)"


def test_no_rows_ask_nothing(callerid, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert calls_after(callerid, []) == {}


def test_it_is_one_query(callerid, django_assert_num_queries):
    ids = [add(callerid, LedgerKind.RECHARGE, "1").pk for _ in range(30)]
    for _ in range(3):
        add(callerid, LedgerKind.CALL, "-0.5")
    with django_assert_num_queries(1):
        result = calls_after(callerid, ids)
    assert result == {ids[-1]: CallsSummary(D("-1.5"), 3)}


@pytest.mark.parametrize(
    ("amount", "count", "text"),
    [
        (D("-3.25"), 7, "calls: \u22123.2500 (7 calls)"),
        (D("0"), 1, "calls: 0.0000 (1 call)"),
    ],
)
def test_the_summary_reads_like_the_spec(amount, count, text):
    assert CallsSummary(amount, count).text == text
