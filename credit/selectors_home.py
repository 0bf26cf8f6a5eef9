"""What the panel home shows (SPEC §14), within the user's scope: every figure comes from a
counter row or a bounded, indexed query, never from a scan of the CallerIDs or the calls.

- active CallerIDs and room left: the License and Reseller counters;
- credit outstanding and Unlimited count: callerids.models.CreditTotals (one row per reseller);
- low on credit / none left: counted up to COUNT_CAP through the index on (extension,
  available) of the CallerIDs that are not removed;
- calls, minutes, cost and shortfall today, this month, and the 30-day chart: at most 31
  credit.models.CallDay rows per reseller;
- the last 10 recharges: the partial index of the ledger's rows that are not calls;
- calls in progress: the open holds (credit.selectors_holds), read through their partial
  index on expires_at: as many as there are calls going on, never the finished ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from callerids.models import AuthorizedCallerID, CallerIDStatus, CreditTotals
from callerids.scope import callerids_for
from callerids.selectors import Room, room_left
from credit.models import CallDay, LedgerEntry, LedgerKind
from credit.selectors_cost import DayCost, minutes_of, server_zone
from credit.selectors_holds import calls_in_progress_count
from tenancy import scoping
from values.money import quantize4

ZERO = Decimal("0.0000")
COUNT_CAP = 1000  # low / none-left counts stop here ("1000+")
CHART_DAYS = 30
RECENT = 10
WATCH_LIMIT = 100  # rows on the low-credit list page

LOW, EMPTY = "low", "empty"
CREDIT_STATES = {
    LOW: "Low on credit",
    EMPTY: "No credit left",
}


def low_credit_threshold() -> Decimal:
    return quantize4(Decimal(str(settings.LOW_CREDIT_THRESHOLD)))


@dataclass
class CallTotals:
    calls: int = 0
    seconds: int = 0
    cost: Decimal = ZERO
    shortfall: Decimal = ZERO

    @property
    def minutes(self) -> Decimal:
        return minutes_of(self.seconds)


@dataclass(frozen=True)
class CappedCount:
    count: int
    capped: bool  # True: there are more than `count`

    def __str__(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


@dataclass
class PanelHome:
    room: Room
    active: int
    outstanding: Decimal
    unlimited: int
    low: CappedCount
    empty: CappedCount
    threshold: Decimal
    today: CallTotals
    month: CallTotals
    in_progress: int
    days: list[DayCost] = field(default_factory=list)
    recent: list[LedgerEntry] = field(default_factory=list)


def credit_watch(user, state: str) -> QuerySet[AuthorizedCallerID]:
    """The CallerIDs of the user's scope that are low on credit (`low`) or have none left
    (`empty`), lowest balance first: limited, not removed. Read through the index on
    (extension, available) of the CallerIDs that are not removed."""
    # The condition of the callerid_credit_watch index, spelled as it is.
    qs = callerids_for(user).filter(~Q(status=CallerIDStatus.REMOVED) & Q(unlimited=False))
    if state == EMPTY:
        qs = qs.filter(available=0)
    elif state == LOW:
        qs = qs.filter(available__gt=0, available__lt=low_credit_threshold())
    else:
        return qs.none()
    return qs.order_by("available", "id")


def _capped(qs: QuerySet) -> CappedCount:
    found = qs.order_by()[: COUNT_CAP + 1].count()
    return CappedCount(count=min(found, COUNT_CAP), capped=found > COUNT_CAP)


def _day_rows(reseller_id: int | None, first: dt.date, last: dt.date):
    """(day, calls, seconds, cost, shortfall) per day, summed over the resellers in scope:
    at most (last - first + 1) rows per reseller, summed exactly (numeric on PostgreSQL,
    Decimal in Python elsewhere, where the database would sum floats)."""
    qs = CallDay.objects.filter(day__gte=first, day__lte=last).order_by()
    if reseller_id is not None:
        qs = qs.filter(reseller_id=reseller_id)
    names = (
        "calls",
        "seconds",
        "cost",
        "shortfall",
        "unmetered_calls",
        "unmetered_seconds",
        "unmetered_cost",
    )
    totals: dict[dt.date, dict[str, object]] = {}
    if connection.vendor == "postgresql":
        rows = qs.values("day").annotate(**{f"sum_{name}": Sum(name) for name in names})
        for row in rows:
            totals[row["day"]] = {name: row[f"sum_{name}"] for name in names}
        return totals
    for row in qs.values("day", *names):
        day = totals.setdefault(row["day"], dict.fromkeys(names, 0))
        for name in names:
            day[name] += row[name]
    return totals


def _add(totals: CallTotals, row: dict) -> None:
    totals.calls += row["calls"] + row["unmetered_calls"]
    totals.seconds += row["seconds"] + row["unmetered_seconds"]
    totals.cost += quantize4(row["cost"]) + quantize4(row["unmetered_cost"])
    totals.shortfall += quantize4(row["shortfall"])


def _cost_days(rows, first: dt.date) -> list[DayCost]:
    days = []
    for n in range(CHART_DAYS):
        day = first + dt.timedelta(days=n)
        row = rows.get(day)
        metered = quantize4(row["cost"]) if row else ZERO
        unmetered = quantize4(row["unmetered_cost"]) if row else ZERO
        days.append(DayCost(day=day, metered=metered, unmetered=unmetered))
    return days


def _reseller_scope(user) -> int | None:
    return None if scoping.is_server_wide(user) else scoping.reseller_id_of(user)


def cost_days(user) -> list[DayCost]:
    """The home chart's 30 days (the last is today), metered and unmetered cost apart."""
    today = timezone.localdate(timezone=server_zone())
    first = today - dt.timedelta(days=CHART_DAYS - 1)
    return _cost_days(_day_rows(_reseller_scope(user), first, today), first)


def panel_home(user) -> PanelHome:
    """The panel home's figures for a user with a role (scoping decides the scope)."""
    server_wide = scoping.is_server_wide(user)
    reseller_id = _reseller_scope(user)
    room = room_left(user)
    if server_wide:
        active = room.used
        totals = CreditTotals.objects.aggregate(
            outstanding=Sum("outstanding"), unlimited=Sum("unlimited")
        )
        outstanding, unlimited = totals["outstanding"], totals["unlimited"]
    else:
        active = scoping.reseller_of(user).active_callerids
        row = (
            CreditTotals.objects.filter(reseller_id=reseller_id)
            .values_list("outstanding", "unlimited")
            .first()
        )
        outstanding, unlimited = row if row is not None else (ZERO, 0)

    today = timezone.localdate(timezone=server_zone())
    month_first = today.replace(day=1)
    chart_first = today - dt.timedelta(days=CHART_DAYS - 1)
    rows = _day_rows(reseller_id, min(month_first, chart_first), today)
    today_totals, month_totals = CallTotals(), CallTotals()
    for day, row in rows.items():
        if day >= month_first:
            _add(month_totals, row)
        if day == today:
            _add(today_totals, row)
    days = _cost_days(rows, chart_first)

    recent = LedgerEntry.objects.exclude(kind=LedgerKind.CALL)
    if reseller_id is not None:
        recent = recent.filter(reseller_id=reseller_id)
    recent = recent.select_related("callerid__extension").order_by("-id")[:RECENT]

    return PanelHome(
        room=room,
        active=active or 0,
        outstanding=quantize4(outstanding or ZERO),
        unlimited=unlimited or 0,
        low=_capped(credit_watch(user, LOW)),
        empty=_capped(credit_watch(user, EMPTY)),
        threshold=low_credit_threshold(),
        today=today_totals,
        month=month_totals,
        in_progress=calls_in_progress_count(user),
        days=days,
        recent=list(recent),
    )
