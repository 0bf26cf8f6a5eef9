"""Reads of calls in progress (SPEC §11): what is on hold for a CallerID, the open holds of
an extension, how many calls are in progress in a user's scope.

"Open" means status open and not yet past its expiry: a hold past its expiry counts for
nothing even before the background task (or the next lock of its CallerID) marks it.
Sums are done in Decimal in Python (a CallerID has a handful of open holds at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from callback.scope import extensions_for
from credit.models import CallHold, HoldStatus
from values.money import quantize4

MONEY = DecimalField(max_digits=14, decimal_places=4)


@dataclass(frozen=True)
class HoldSummary:
    count: int
    total: Decimal


def open_holds(*, now: datetime | None = None) -> QuerySet[CallHold]:
    now = now or timezone.now()
    return CallHold.objects.filter(status=HoldStatus.OPEN, expires_at__gt=now)


def open_holds_of(callerid_id: int, *, now: datetime | None = None) -> HoldSummary:
    """How many calls of the CallerID are in progress and what they hold."""
    reserved = list(
        open_holds(now=now).filter(callerid_id=callerid_id).values_list("reserved", flat=True)
    )
    return HoldSummary(count=len(reserved), total=quantize4(sum(reserved, Decimal("0"))))


def held_by_calls_in_progress(*, now: datetime | None = None):
    """An annotation for a CallerID queryset: what its calls in progress hold (a Decimal)."""
    held = (
        open_holds(now=now)
        .filter(callerid_id=OuterRef("pk"))
        .order_by()
        .values("callerid_id")
        .annotate(total=Sum("reserved"))
        .values("total")
    )
    return Coalesce(Subquery(held, output_field=MONEY), Value(Decimal("0")), output_field=MONEY)


def calls_in_progress_for_extension(
    extension_id: int, *, now: datetime | None = None
) -> QuerySet[CallHold]:
    """The extension's calls in progress, newest first, with their CallerIDs."""
    return (
        open_holds(now=now)
        .filter(extension_id=extension_id)
        .select_related("callerid")
        .order_by("-started_at", "-id")
    )


def calls_in_progress_count(user, *, now: datetime | None = None) -> int:
    """Calls in progress on the extensions `user` sees (the panel home's figure)."""
    return open_holds(now=now).filter(extension__in=extensions_for(user)).count()
