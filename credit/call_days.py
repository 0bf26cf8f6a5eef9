"""The per-reseller, per-day call totals of the panel home (SPEC §14, credit.models.CallDay).

Each call report adds its call to the row of its reseller and of the server-time-zone day
of its start, in the report's transaction, after the CallerID's row lock. As for the
credit totals (callerids/services/credit_totals.py, which says why): on PostgreSQL one
upsert adds the call (exact numeric arithmetic under the row's lock); on SQLite, whose
transactions run one at a time, the row is read and written back with values computed in
Decimal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from callerids.services import credit_totals
from credit.models import Call, CallDay
from credit.selectors_cost import server_zone
from database.prepared import Statement
from database.tables import table
from values.money import ZERO, quantize4

SUMS = ("calls", "seconds", "cost", "charged", "shortfall")
UNMETERED = ("unmetered_calls", "unmetered_seconds", "unmetered_cost")
COLUMNS = SUMS + UNMETERED

_DAY_SQL = (
    f"INSERT INTO {table(CallDay)} (reseller_id, day, {', '.join(COLUMNS)}) "
    f"VALUES (%s, %s, {', '.join(['%s'] * len(COLUMNS))}) "
    "ON CONFLICT (reseller_id, day) DO UPDATE SET "
    + ", ".join(f"{c} = {table(CallDay)}.{c} + EXCLUDED.{c}" for c in COLUMNS)
)
_DAY = Statement("call_day_add", _DAY_SQL)
# A charged call also lowers the reseller's credit outstanding: both in one round trip.
_DAY_AND_TOTALS = Statement(
    "call_day_and_totals_add",
    f"WITH day AS ({_DAY_SQL} RETURNING 1) {credit_totals.UPSERT_SQL}",
)


def day_of(started_at: dt.datetime) -> dt.date:
    return started_at.astimezone(server_zone()).date()


def _values(*, metered: bool, seconds: int, cost: Decimal, charged: Decimal, shortfall):
    if metered:
        return [1, seconds, quantize4(cost), quantize4(charged), quantize4(shortfall), 0, 0, ZERO]
    return [0, 0, ZERO, ZERO, ZERO, 1, seconds, quantize4(cost)]


def writes(
    *,
    reseller_id: int,
    started_at: dt.datetime,
    metered: bool,
    seconds: int,
    cost: Decimal,
    charged: Decimal = ZERO,
    shortfall: Decimal = ZERO,
    outstanding_change: Decimal = ZERO,
) -> tuple[tuple[str, ...], list]:
    """count_call's writes on PostgreSQL, for a caller that runs them inside its own
    statement (credit.ledger.record_call, with the call's writes: one round trip less
    under the CallerID's lock): the upserts, each `INSERT … RETURNING 1` to run as a
    data-modifying WITH query, and their parameters in order."""
    values = _values(
        metered=metered, seconds=seconds, cost=cost, charged=charged, shortfall=shortfall
    )
    queries, params = [f"{_DAY_SQL} RETURNING 1"], [reseller_id, day_of(started_at), *values]
    outstanding_change = quantize4(outstanding_change)
    if outstanding_change:
        queries.append(f"{credit_totals.UPSERT_SQL} RETURNING 1")
        params += [reseller_id, outstanding_change, 0]
    return tuple(queries), params


def count_call(
    *,
    reseller_id: int,
    started_at: dt.datetime,
    metered: bool,
    seconds: int,
    cost: Decimal,
    charged: Decimal = ZERO,
    shortfall: Decimal = ZERO,
    outstanding_change: Decimal = ZERO,
) -> None:
    """Add one call to its reseller's day, and `outstanding_change` (minus what a limited,
    not removed CallerID was charged) to the reseller's credit totals. Inside the call
    report's transaction, after the CallerID's lock (the totals row is the last lock)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("count_call must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        queries, params = writes(
            reseller_id=reseller_id,
            started_at=started_at,
            metered=metered,
            seconds=seconds,
            cost=cost,
            charged=charged,
            shortfall=shortfall,
            outstanding_change=outstanding_change,
        )
        with connection.cursor() as cursor:
            (_DAY_AND_TOTALS if len(queries) > 1 else _DAY).execute(cursor, params)
        return
    values = _values(
        metered=metered, seconds=seconds, cost=cost, charged=charged, shortfall=shortfall
    )
    row, _ = CallDay.objects.get_or_create(reseller_id=reseller_id, day=day_of(started_at))
    for name, value in zip(COLUMNS, values, strict=True):
        current = getattr(row, name)
        if isinstance(value, Decimal):
            setattr(row, name, quantize4(Decimal(current) + value))
        else:
            setattr(row, name, current + value)
    row.save(update_fields=list(COLUMNS))
    outstanding_change = quantize4(outstanding_change)
    if outstanding_change:
        credit_totals.add(reseller_id=reseller_id, outstanding=outstanding_change)


def computed() -> dict[tuple[int, dt.date], dict[str, object]]:
    """The day rows as the calls say (a scan: for panel_totals and the bench seed only).
    Sums are exact: numeric on PostgreSQL, Decimal in Python elsewhere."""
    reseller = "extension__organization__reseller_id"
    calls = Call.objects.order_by()
    result: dict[tuple[int, dt.date], dict[str, object]] = {}
    if connection.vendor == "postgresql":
        metered, unmetered = Q(metered=True), Q(metered=False)
        rows = (
            calls.annotate(day=TruncDate("started_at", tzinfo=server_zone()))
            .values(reseller, "day")
            .annotate(
                sum_calls=Count("id", filter=metered),
                sum_seconds=Sum("duration_seconds", filter=metered),
                sum_cost=Sum("cost", filter=metered),
                sum_charged=Sum("charged", filter=metered),
                sum_shortfall=Sum("shortfall", filter=metered),
                sum_unmetered_calls=Count("id", filter=unmetered),
                sum_unmetered_seconds=Sum("duration_seconds", filter=unmetered),
                sum_unmetered_cost=Sum("cost", filter=unmetered),
            )
        )
        for row in rows:
            result[(row[reseller], row["day"])] = {
                name: (
                    quantize4(row[f"sum_{name}"] or ZERO)
                    if name in _MONEY
                    else row[f"sum_{name}"] or 0
                )
                for name in COLUMNS
            }
        return result
    fields = (reseller, "started_at", "metered", "duration_seconds", "cost", "charged", "shortfall")
    for reseller_id, started_at, metered, seconds, cost, charged, shortfall in calls.values_list(
        *fields
    ).iterator(chunk_size=5000):
        key = (reseller_id, day_of(started_at))
        row = result.setdefault(key, {name: ZERO if name in _MONEY else 0 for name in COLUMNS})
        values = _values(
            metered=metered, seconds=seconds, cost=cost, charged=charged, shortfall=shortfall
        )
        for name, value in zip(COLUMNS, values, strict=True):
            row[name] += value
    return result


_MONEY = {"cost", "charged", "shortfall", "unmetered_cost"}


def rebuild() -> None:
    """Recompute every day row from the calls (after a bulk load that went around the
    services, e.g. bench/seed.py, or a change of TIME_ZONE, which moves day boundaries)."""
    with transaction.atomic():
        rows = computed()
        CallDay.objects.all().delete()
        CallDay.objects.bulk_create(
            (
                CallDay(reseller_id=reseller_id, day=day, **values)
                for (reseller_id, day), values in rows.items()
            ),
            batch_size=1000,
        )
