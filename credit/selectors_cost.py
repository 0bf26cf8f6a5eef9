"""Reads for the cost report of one callback extension (SPEC §7).

Days are days in the server time zone (settings.TIME_ZONE). A range of dates [first, last]
covers [start of `first` in that zone, start of the day after `last`) — converted to UTC with
zoneinfo, so month ends and daylight-saving days (23 or 25 hours) are exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from callback.models import CallbackExtension
from credit.models import Call
from values.money import ZERO


def server_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the server time zone, as an aware UTC datetime."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=server_zone())
    return local.astimezone(dt.UTC)


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month holding `day`."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


@dataclass(frozen=True)
class CostReportFilter:
    """What the report shows: one extension, a range of server-TZ days, maybe one CallerID."""

    extension: CallbackExtension
    first_day: dt.date
    last_day: dt.date
    callerid: object | None = None  # callerids.models.AuthorizedCallerID, the one shown
    # Every CallerID the report covers: a typed number may match a removed CallerID too.
    callerid_ids: tuple[int, ...] = ()

    @property
    def starts_at(self) -> dt.datetime:
        return day_start(self.first_day)

    @property
    def ends_before(self) -> dt.datetime:
        return day_start(self.last_day + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + dt.timedelta(days=n) for n in range(count)]


def _calls_in(report: CostReportFilter) -> QuerySet[Call]:
    """The report's calls, unordered: calls of removed CallerIDs are included."""
    qs = Call.objects.filter(
        extension=report.extension,
        started_at__gte=report.starts_at,
        started_at__lt=report.ends_before,
    )
    if report.callerid is not None:
        qs = qs.filter(callerid_id__in=report.callerid_ids or (report.callerid.pk,))
    return qs.order_by()


def cost_report_calls(report: CostReportFilter) -> QuerySet[Call]:
    """The calls of the report, oldest first, each with `caller_number`.

    `caller_number` is the CallerID's number for metered calls and the caller_id the PBX
    reported for the others.
    """
    return (
        _calls_in(report)
        .annotate(caller_number=Coalesce("callerid__number", "caller_id"))
        .order_by("started_at", "id")
    )


@dataclass(frozen=True)
class CostTotals:
    calls: int
    seconds: int
    cost: Decimal
    charged: Decimal
    shortfall: Decimal
    unmetered_calls: int
    unmetered_seconds: int
    unmetered_cost: Decimal

    @property
    def minutes(self) -> Decimal:
        return minutes_of(self.seconds)

    @property
    def unmetered_minutes(self) -> Decimal:
        return minutes_of(self.unmetered_seconds)


def minutes_of(seconds: int) -> Decimal:
    """Seconds as minutes with one decimal, rounded half up."""
    return (Decimal(seconds) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def cost_report_totals(report: CostReportFilter) -> CostTotals:
    """Totals in one query: metered calls, and unmetered calls apart."""
    metered, unmetered = Q(metered=True), Q(metered=False)
    row = _calls_in(report).aggregate(
        n_metered=Count("id", filter=metered),
        seconds_metered=Sum("duration_seconds", filter=metered),
        cost_metered=Sum("cost", filter=metered),
        charged_metered=Sum("charged", filter=metered),
        shortfall_metered=Sum("shortfall", filter=metered),
        n_unmetered=Count("id", filter=unmetered),
        seconds_unmetered=Sum("duration_seconds", filter=unmetered),
        cost_unmetered=Sum("cost", filter=unmetered),
    )
    return CostTotals(
        calls=row["n_metered"],
        seconds=row["seconds_metered"] or 0,
        cost=_money(row["cost_metered"]),
        charged=_money(row["charged_metered"]),
        shortfall=_money(row["shortfall_metered"]),
        unmetered_calls=row["n_unmetered"],
        unmetered_seconds=row["seconds_unmetered"] or 0,
        unmetered_cost=_money(row["cost_unmetered"]),
    )


def _money(value) -> Decimal:
    # SQLite sums decimals as floats; Django converts them back to a Decimal of the field's
    # 4 places, so the quantize here only normalizes None and the exponent.
    return ZERO if value is None else Decimal(value).quantize(ZERO)


@dataclass(frozen=True)
class DayCost:
    day: dt.date
    metered: Decimal
    unmetered: Decimal


def cost_per_day(report: CostReportFilter) -> list[DayCost]:
    """Cost per server-TZ day, metered and unmetered apart; every day of the range, zeros too."""
    rows = (
        _calls_in(report)
        .annotate(day=TruncDate("started_at", tzinfo=server_zone()))
        .values("day", "metered")
        .annotate(day_cost=Sum("cost"))
    )
    found: dict[tuple[dt.date, bool], Decimal] = {}
    for row in rows:
        day = row["day"]
        if isinstance(day, str):  # some backends hand back the date as text
            day = dt.date.fromisoformat(day)
        found[(day, row["metered"])] = _money(row["day_cost"])
    return [
        DayCost(
            day=day,
            metered=found.get((day, True), ZERO),
            unmetered=found.get((day, False), ZERO),
        )
        for day in report.days()
    ]
