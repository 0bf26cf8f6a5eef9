"""The per-reseller credit totals of the panel home (SPEC §14): credit outstanding and
how many CallerIDs are Unlimited (callerids.models.CreditTotals).

Every service that changes a CallerID's balance, Unlimited flag or removed status adds
the change here, in its own transaction, after its other locks (so the totals row is
always the last lock taken and two transactions never wait for each other through it).

How a change is written: on PostgreSQL one upsert adds the difference
(`outstanding = outstanding + %s`). The project's rule against SQL arithmetic on money
exists because SQLite stores decimals as floating point; PostgreSQL's numeric is exact,
and the UPDATE's row lock applies concurrent differences one after the other, so no
difference is lost and the hot path (a call report) pays one statement. On SQLite, whose
IMMEDIATE transactions run one at a time, the row is read and the new values, computed
in Decimal, are written as absolute values.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from callerids.models import AuthorizedCallerID, CallerIDStatus, CreditTotals
from database.prepared import Statement
from database.tables import table
from tenancy.models import Reseller
from values.money import quantize4

ZERO = Decimal("0.0000")

UPSERT_SQL = (
    f"INSERT INTO {table(CreditTotals)} (reseller_id, outstanding, unlimited) "
    "VALUES (%s, %s, %s) ON CONFLICT (reseller_id) DO UPDATE SET "
    f"outstanding = {table(CreditTotals)}.outstanding + EXCLUDED.outstanding, "
    f"unlimited = {table(CreditTotals)}.unlimited + EXCLUDED.unlimited"
)
_UPSERT = Statement("credit_totals_add", UPSERT_SQL)


def share(*, status: str, unlimited: bool, available: Decimal | None) -> tuple[Decimal, int]:
    """What one CallerID adds to its reseller's (outstanding, unlimited)."""
    if status == CallerIDStatus.REMOVED:
        return ZERO, 0
    if unlimited:
        return ZERO, 1
    return quantize4(available), 0


def share_of(callerid: AuthorizedCallerID) -> tuple[Decimal, int]:
    return share(status=callerid.status, unlimited=callerid.unlimited, available=callerid.available)


class TotalsChange:
    """Differences per reseller, gathered during a transaction and written once by save()."""

    def __init__(self) -> None:
        self.deltas: dict[int, tuple[Decimal, int]] = {}

    def add(self, reseller_id: int, outstanding: Decimal, unlimited: int = 0) -> None:
        old_outstanding, old_unlimited = self.deltas.get(reseller_id, (ZERO, 0))
        self.deltas[reseller_id] = (old_outstanding + outstanding, old_unlimited + unlimited)

    def moved(self, reseller_id: int, before: tuple[Decimal, int], after: tuple[Decimal, int]):
        """Record one CallerID whose share went from `before` to `after` (see share())."""
        self.add(reseller_id, after[0] - before[0], after[1] - before[1])

    def save(self) -> None:
        """Write the differences, resellers in id order. Must run inside atomic."""
        for reseller_id in sorted(self.deltas):
            outstanding, unlimited = self.deltas[reseller_id]
            add(reseller_id=reseller_id, outstanding=outstanding, unlimited=unlimited)
        self.deltas.clear()


def add(*, reseller_id: int, outstanding: Decimal, unlimited: int = 0) -> None:
    """Add the differences to one reseller's totals (creating its row the first time)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credit_totals.add must run inside transaction.atomic()")
    outstanding = quantize4(outstanding)
    if not outstanding and not unlimited:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _UPSERT.execute(cursor, [reseller_id, outstanding, unlimited])
        return
    totals, _ = CreditTotals.objects.get_or_create(reseller_id=reseller_id)
    totals.outstanding = quantize4(Decimal(totals.outstanding) + outstanding)
    totals.unlimited = totals.unlimited + unlimited
    totals.save(update_fields=["outstanding", "unlimited"])


def computed(reseller_ids: Iterable[int] | None = None) -> dict[int, tuple[Decimal, int]]:
    """The totals as the CallerIDs say, summed in Decimal (a scan: for panel_totals, the
    migration and the bench seed, never a page)."""
    qs = AuthorizedCallerID.objects.exclude(status=CallerIDStatus.REMOVED)
    if reseller_ids is not None:
        qs = qs.filter(extension__organization__reseller_id__in=list(reseller_ids))
    reseller = "extension__organization__reseller_id"
    if connection.vendor == "postgresql":  # numeric sums are exact there
        rows = (
            qs.order_by()
            .values(reseller)
            .annotate(outstanding=Sum("available"), unlimited=Count("id", filter=Q(unlimited=True)))
        )
        return {
            row[reseller]: (quantize4(row["outstanding"] or ZERO), row["unlimited"]) for row in rows
        }
    result: dict[int, tuple[Decimal, int]] = {}
    rows = qs.values_list("extension__organization__reseller_id", "unlimited", "available")
    for reseller_id, unlimited, available in rows.order_by().iterator(chunk_size=5000):
        outstanding, count = result.get(reseller_id, (ZERO, 0))
        if unlimited:
            count += 1
        else:
            outstanding += quantize4(available)
        result[reseller_id] = (outstanding, count)
    return result


def rebuild() -> None:
    """Recompute every reseller's totals from the CallerIDs (after a bulk load that went
    around the services, e.g. bench/seed.py). Locks the whole table while it writes."""
    with transaction.atomic():
        totals = computed()
        CreditTotals.objects.all().delete()
        rows = []
        for pk in Reseller.objects.values_list("pk", flat=True):
            outstanding, unlimited = totals.get(pk, (ZERO, 0))
            rows.append(CreditTotals(reseller_id=pk, outstanding=outstanding, unlimited=unlimited))
        CreditTotals.objects.bulk_create(rows)
