"""The cost report's reads: totals (metered and unmetered apart), exact day, month and DST
boundaries in the server time zone, cost per day with every day present."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.test import override_settings

from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import Call
from credit.selectors_cost import (
    CostReportFilter,
    cost_per_day,
    cost_report_calls,
    cost_report_totals,
    day_start,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
_ids = itertools.count(1)


def make_callerid(extension, number="+40721000123", **fields) -> AuthorizedCallerID:
    """A CallerID row only (no ledger row, no counters), not tests.factories on purpose:
    the cost report reads calls, and these tests write Call rows with chosen costs and
    dates directly (call() below); nothing here reads the balance or the ledger."""
    fields.setdefault("available", Decimal("100"))
    fields.setdefault("total", Decimal("100"))
    return AuthorizedCallerID.objects.create(extension=extension, number=number, **fields)


def call(extension, started_at, *, callerid=None, cost="0.5000", charged=None, shortfall="0",
         duration=60, caller_id="", destination="+4031000000", save=True) -> Call:  # fmt: skip
    """A Call row as the PBX API would record it: unmetered when callerid is None."""
    metered = callerid is not None
    row = Call(
        call_id=f"test-{next(_ids)}",
        extension=extension,
        callerid=callerid,
        caller_id=caller_id or (callerid.number if callerid else "0721999999"),
        destination=destination,
        started_at=started_at,
        duration_seconds=duration,
        cost=Decimal(cost),
        charged=Decimal(charged if charged is not None else (cost if metered else "0")),
        shortfall=Decimal(shortfall),
        metered=metered,
    )
    if save:
        row.save()
    return row


def report(extension, first, last, callerid=None) -> CostReportFilter:
    return CostReportFilter(extension=extension, first_day=first, last_day=last, callerid=callerid)


def test_totals_keep_metered_and_unmetered_calls_apart(extension_a):
    cid = make_callerid(extension_a)
    day = dt.datetime(2026, 11, 10, 12, tzinfo=UTC)
    call(extension_a, day, callerid=cid, cost="1.2345", duration=125)
    call(extension_a, day, callerid=cid, cost="2.0000", charged="1.5000", shortfall="0.5000",
         duration=60)  # fmt: skip
    call(extension_a, day, cost="0.3333", duration=30)
    call(extension_a, day, cost="0.1111", duration=31)

    totals = cost_report_totals(report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))

    assert totals.calls == 2
    assert totals.seconds == 185
    assert totals.minutes == Decimal("3.1")
    assert totals.cost == Decimal("3.2345")
    assert totals.charged == Decimal("2.7345")
    assert totals.shortfall == Decimal("0.5000")
    assert totals.unmetered_calls == 2
    assert totals.unmetered_seconds == 61
    assert totals.unmetered_minutes == Decimal("1.0")
    assert totals.unmetered_cost == Decimal("0.4444")
    assert all(
        isinstance(v, Decimal)
        for v in (totals.cost, totals.charged, totals.shortfall, totals.unmetered_cost)
    )


def test_totals_of_an_empty_range_are_zeros(extension_a):
    totals = cost_report_totals(report(extension_a, dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
    assert (totals.calls, totals.seconds, totals.unmetered_calls) == (0, 0, 0)
    assert totals.cost == totals.charged == totals.shortfall == Decimal("0")
    assert totals.unmetered_cost == Decimal("0")


def test_other_extensions_calls_are_not_counted(extension_a, extension_b):
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    call(extension_a, when)
    call(extension_b, when)
    rows = cost_report_calls(report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert [c.extension_id for c in rows] == [extension_a.pk]


def test_the_callerid_filter_keeps_its_calls_and_removed_callerids_still_count(extension_a):
    gone = make_callerid(extension_a, "+40721000001", status=CallerIDStatus.REMOVED)
    other = make_callerid(extension_a, "+40721000002")
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    mine = call(extension_a, when, callerid=gone, cost="1.0000")
    call(extension_a, when, callerid=other, cost="2.0000")
    call(extension_a, when, cost="3.0000")
    nov = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))

    filtered = report(extension_a, *nov, callerid=gone)
    assert [c.pk for c in cost_report_calls(filtered)] == [mine.pk]
    assert cost_report_totals(filtered).cost == Decimal("1.0000")
    assert cost_report_totals(filtered).unmetered_calls == 0
    assert cost_report_totals(report(extension_a, *nov)).calls == 2


def test_caller_number_is_the_callerids_number_or_the_reported_caller_id(extension_a):
    cid = make_callerid(extension_a, "+40721000123")
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    call(extension_a, when, callerid=cid, caller_id="0721 000 123")
    call(extension_a, when + dt.timedelta(seconds=1), caller_id="0040 721 555 555")
    rows = cost_report_calls(report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert [c.caller_number for c in rows] == ["+40721000123", "0040 721 555 555"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Bucharest", "America/New_York"])
def test_last_second_of_a_month_is_in_it_and_the_next_first_second_is_not(extension_a, zone):
    with override_settings(TIME_ZONE=zone):
        end = day_start(dt.date(2026, 12, 1))  # midnight of 1 December in the zone, in UTC
        last = call(extension_a, end - dt.timedelta(seconds=1))
        first_next = call(extension_a, end)
        first = call(extension_a, day_start(dt.date(2026, 11, 1)))
        before = call(extension_a, day_start(dt.date(2026, 11, 1)) - dt.timedelta(seconds=1))

        november = report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        december = report(extension_a, dt.date(2026, 12, 1), dt.date(2026, 12, 31))
        assert {c.pk for c in cost_report_calls(november)} == {first.pk, last.pk}
        assert {c.pk for c in cost_report_calls(december)} == {first_next.pk}
        assert before.pk not in {c.pk for c in cost_report_calls(november)}


@override_settings(TIME_ZONE="Europe/Bucharest")
def test_the_month_boundary_in_bucharest_is_local_midnight(extension_a):
    # 1 December 2026 00:00 in Bucharest (EET, UTC+2) is 30 November 22:00 UTC.
    last = call(extension_a, dt.datetime(2026, 11, 30, 21, 59, 59, tzinfo=UTC))
    next_month = call(extension_a, dt.datetime(2026, 11, 30, 22, 0, 0, tzinfo=UTC))
    november = report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert [c.pk for c in cost_report_calls(november)] == [last.pk]
    assert next_month.pk not in [c.pk for c in cost_report_calls(november)]


@override_settings(TIME_ZONE="Europe/Bucharest")
@pytest.mark.parametrize(
    ("day", "hours", "starts", "ends"),
    [
        # Spring forward: 29 March 2026 has 23 hours (EET UTC+2 -> EEST UTC+3).
        (dt.date(2026, 3, 29), 23, dt.datetime(2026, 3, 28, 22, tzinfo=UTC),
         dt.datetime(2026, 3, 29, 21, tzinfo=UTC)),
        # Fall back: 25 October 2026 has 25 hours (EEST UTC+3 -> EET UTC+2).
        (dt.date(2026, 10, 25), 25, dt.datetime(2026, 10, 24, 21, tzinfo=UTC),
         dt.datetime(2026, 10, 25, 22, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_a_dst_change_day_counts_exactly_its_hours(extension_a, day, hours, starts, ends):
    one_day = report(extension_a, day, day)
    assert one_day.starts_at == starts
    assert one_day.ends_before == ends
    assert one_day.ends_before - one_day.starts_at == dt.timedelta(hours=hours)

    second = dt.timedelta(seconds=1)
    inside = [call(extension_a, starts), call(extension_a, ends - second)]
    call(extension_a, starts - second)
    call(extension_a, ends)
    assert {c.pk for c in cost_report_calls(one_day)} == {c.pk for c in inside}
    assert cost_report_totals(one_day).unmetered_calls == 2
    # The chart puts the same calls on that day, and the neighbours on theirs.
    three_days = report(extension_a, day - dt.timedelta(days=1), day + dt.timedelta(days=1))
    per_day = [d.unmetered for d in cost_per_day(three_days)]
    assert per_day == [Decimal("0.5000"), Decimal("1.0000"), Decimal("0.5000")]


@override_settings(TIME_ZONE="Europe/Bucharest")
def test_cost_per_day_has_every_day_of_the_range_with_zeros(extension_a):
    cid = make_callerid(extension_a)
    # 23:30 UTC on 2 Nov is 01:30 on 3 Nov in Bucharest.
    call(extension_a, dt.datetime(2026, 11, 2, 23, 30, tzinfo=UTC), callerid=cid, cost="1.2500")
    call(extension_a, dt.datetime(2026, 11, 3, 8, tzinfo=UTC), callerid=cid, cost="0.2500")
    call(extension_a, dt.datetime(2026, 11, 3, 9, tzinfo=UTC), cost="0.1000")

    days = cost_per_day(report(extension_a, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))

    assert [d.day for d in days] == [dt.date(2026, 11, n) for n in range(1, 31)]
    by_day = {d.day: (d.metered, d.unmetered) for d in days}
    assert by_day[dt.date(2026, 11, 3)] == (Decimal("1.5000"), Decimal("0.1000"))
    assert by_day[dt.date(2026, 11, 2)] == (Decimal("0"), Decimal("0"))
    assert sum(d.metered + d.unmetered for d in days) == Decimal("1.6000")
