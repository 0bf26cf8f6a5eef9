"""Reads of credit that other modules share."""

from __future__ import annotations

from django.db.models import Q

from credit.models import Call, LedgerEntry, LedgerKind
from tenancy import scoping


def credit_ever_granted() -> bool:
    """True once any CallerID was given credit: then the currency can no longer change."""
    granted = Q(kind=LedgerKind.SET_UNLIMITED) | (
        Q(kind__in=[LedgerKind.INITIAL, LedgerKind.RECHARGE])
        & (Q(amount__isnull=True) | ~Q(amount=0))
    )
    return LedgerEntry.objects.filter(granted).exists()


def calls_for(user):
    return scoping.by_reseller(user, Call.objects.all(), "extension__organization__reseller_id")
