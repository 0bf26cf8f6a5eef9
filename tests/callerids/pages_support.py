"""Helpers shared by the Authorized CallerIDs page tests (tests/callerids/test_pages_*.py)."""

from __future__ import annotations

from decimal import Decimal

from callerids.models import AuthorizedCallerID, CallerIDStatus
from tests import factories


def add(extension, *numbers, **row):
    """Add CallerIDs through the service (as the system); returns them in order."""
    return factories.callerids(extension, *numbers, **row)


def bulk_rows(extension, count: int, *, start: int = 100000) -> None:
    """Many disabled CallerIDs written straight to the table: only for read-only pages
    (disabled, so the license counters stay true)."""
    AuthorizedCallerID.objects.bulk_create(
        AuthorizedCallerID(
            extension=extension,
            number=str(start + i),
            status=CallerIDStatus.DISABLED,
            available=Decimal("1"),
            total=Decimal("1"),
        )
        for i in range(count)
    )


def statuses(*callerids) -> list[str]:
    return [AuthorizedCallerID.objects.get(pk=c.pk).status for c in callerids]
