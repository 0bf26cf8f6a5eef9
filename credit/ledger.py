"""The ledger's two primitives, used by every service that moves credit (SPEC §6.1).

Callers own the transaction: lock the CallerID row first (lock_callerid), compute the new
balance in Python Decimal, then append the row and write the absolute balance. Never SQL
arithmetic on money: SQLite stores decimals as floating point.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from callback.audit import Actor
from callerids.models import AuthorizedCallerID
from credit.models import LedgerEntry
from credit.money import MAX_BALANCE, quantize4


def lock_callerid(pk: int) -> AuthorizedCallerID:
    """The CallerID row locked until the caller's transaction ends (must be inside atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_callerid must run inside transaction.atomic()")
    return AuthorizedCallerID.objects.select_for_update().get(pk=pk)


def append(
    *,
    callerid: AuthorizedCallerID,
    kind: str,
    amount: Decimal | None,
    balance_after: Decimal | None,
    actor: Actor,
    order_number: str = "",
    one_time_key=None,
    call=None,
) -> LedgerEntry:
    """Append one ledger row; the caller then saves callerid.available/total to match."""
    if balance_after is not None:
        balance_after = quantize4(balance_after)
        if balance_after < 0:
            raise ValidationError("The balance cannot go below 0.")
        if balance_after > MAX_BALANCE:
            raise ValidationError("A balance holds at most 9,999,999,999.9999.")
    return LedgerEntry.objects.create(
        callerid=callerid,
        kind=kind,
        amount=quantize4(amount) if amount is not None else None,
        balance_after=balance_after,
        order_number=order_number,
        one_time_key=one_time_key,
        call=call,
        actor=actor.user,
        actor_username=actor.label if actor.user is not None or actor.token is not None else "",
    )
