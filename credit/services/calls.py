"""The PBX reports a finished call; its cost is taken from the CallerID's credit (SPEC §9).

One transaction records the call and charges it: lock the CallerID's row, compute what is
charged in Decimal (never more than what is left; the rest is the shortfall), append a
`call` ledger row and write the new balance as an absolute value. `call_id` is the
idempotency key: the same call again answers the original outcome and charges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from callback import scoping
from callback.audit import Actor
from callback.models import ApiToken, CallbackExtension
from callerids.models import AuthorizedCallerID
from credit import ledger
from credit.models import Call, LedgerKind
from credit.money import quantize4

ZERO = Decimal("0.0000")


class CallIdConflict(Exception):
    """This call_id was already used for another call (or one this token cannot see)."""


class _AlreadyRecorded(Exception):
    """A report of this call_id committed while this one waited for the CallerID's lock."""


@dataclass(frozen=True)
class CallOutcome:
    """What a call report answers; `created` False when it repeats an earlier report."""

    created: bool
    call_id: str
    callerid_id: int | None
    metered: bool
    charged: Decimal
    shortfall: Decimal
    available: Decimal | None


@dataclass(frozen=True)
class CallReport:
    """A finished call as the PBX reports it, already validated."""

    call_id: str
    extension: str
    callerid_id: int | None
    caller_id: str
    destination: str
    started_at: datetime
    duration_seconds: int
    cost: Decimal


def _outcome_of(call: Call, *, created: bool) -> CallOutcome:
    available = None
    if call.metered:
        entry = getattr(call, "ledger_entry", None)
        available = entry.balance_after if entry is not None else None
    return CallOutcome(
        created=created,
        call_id=call.call_id,
        callerid_id=call.callerid_id,
        metered=call.metered,
        charged=quantize4(call.charged),
        shortfall=quantize4(call.shortfall),
        available=quantize4(available) if available is not None else None,
    )


def _replay(token: ApiToken, extension: CallbackExtension, report: CallReport) -> CallOutcome:
    """The original outcome when `report` repeats the stored call, else CallIdConflict."""
    original = Call.objects.select_related("ledger_entry").filter(call_id=report.call_id).first()
    if original is None:
        raise LookupError(report.call_id)
    same = (
        scoping.extensions_for_token(token).filter(pk=original.extension_id).exists()
        and original.extension_id == extension.pk
        and original.callerid_id == report.callerid_id
        and original.started_at == report.started_at
        and original.duration_seconds == report.duration_seconds
        and quantize4(original.cost) == quantize4(report.cost)
    )
    if not same:
        raise CallIdConflict(report.call_id)
    return _outcome_of(original, created=False)


def report_call(*, token: ApiToken, report: CallReport, actor: Actor) -> CallOutcome:
    """Record the call in `report` and charge it to its CallerID.

    Requires the extension in the token's scope (else CallbackExtension.DoesNotExist) and,
    when given, a CallerID on that extension in any status, removed included (else
    AuthorizedCallerID.DoesNotExist). Raises CallIdConflict when the call_id was used for a
    different call. Without a CallerID the call is unmetered (nothing charged). An Unlimited
    CallerID is charged the whole cost with no balance change; a limited one at most what it
    has left, the rest being the shortfall.
    """
    extension = scoping.extensions_for_token(token).get(number=report.extension)
    if Call.objects.filter(call_id=report.call_id).exists():
        return _replay(token, extension, report)
    try:
        with transaction.atomic():
            return _record(token=token, extension=extension, report=report, actor=actor)
    except _AlreadyRecorded:
        return _replay(token, extension, report)
    except IntegrityError:
        # The same call_id committed by a simultaneous report (unique constraint): answer
        # as a repeat, or a conflict, like any later duplicate.
        if not Call.objects.filter(call_id=report.call_id).exists():
            raise
        return _replay(token, extension, report)


def _record(
    *, token: ApiToken, extension: CallbackExtension, report: CallReport, actor: Actor
) -> CallOutcome:
    cost = quantize4(report.cost)
    fields = {
        "call_id": report.call_id,
        "extension": extension,
        "caller_id": report.caller_id,
        "destination": report.destination,
        "started_at": report.started_at,
        "duration_seconds": report.duration_seconds,
        "cost": cost,
        "token": token,
    }
    if report.callerid_id is None:
        call = Call.objects.create(
            **fields, callerid=None, charged=ZERO, shortfall=ZERO, metered=False
        )
        return _outcome_of(call, created=True)

    # The CallerID's row lock serializes every charge and recharge of this balance, so two
    # calls ending together cannot both spend the same credit.
    callerid = ledger.lock_callerid(report.callerid_id)
    # Any status, removed included: the call happened; but only a CallerID of this extension
    # (which also keeps the token's scope, as the extension is in it).
    if callerid.extension_id != extension.pk:
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    # Under the lock: a duplicate for this CallerID that committed while we waited.
    if Call.objects.filter(call_id=report.call_id).exists():
        raise _AlreadyRecorded(report.call_id)
    if callerid.unlimited:
        charged, shortfall, balance = cost, ZERO, None
    else:
        available = quantize4(callerid.available)
        charged = min(cost, available)
        shortfall = cost - charged
        balance = available - charged
    call = Call.objects.create(
        **fields, callerid=callerid, charged=charged, shortfall=shortfall, metered=True
    )
    entry = ledger.append(
        callerid=callerid,
        kind=LedgerKind.CALL,
        amount=-charged,
        balance_after=balance,
        actor=actor,
        call=call,
    )
    if balance is not None:
        callerid.available = entry.balance_after
        callerid.save(update_fields=["available"])
    call.ledger_entry = entry
    return _outcome_of(call, created=True)
