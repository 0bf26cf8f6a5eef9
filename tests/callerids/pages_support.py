"""Helpers shared by the Authorized CallerIDs page tests (tests/callerids/test_pages_*.py)."""

from __future__ import annotations

from decimal import Decimal

from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from tenancy.audit import SYSTEM


def add(extension, *numbers, **row):
    """Add CallerIDs through the service (as the system); returns them in order."""
    rows = [NewCallerID(number, **row) for number in numbers]
    return add_callerids(actor=SYSTEM, extension=extension, rows=rows).callerids


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
