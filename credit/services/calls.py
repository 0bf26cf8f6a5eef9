"""The PBX reports a finished call; its cost is taken from the CallerID's credit (SPEC §9).

One transaction records the call and charges it: lock the CallerID's row, compute what is
charged in Decimal (never more than what is left; the rest is the shortfall), insert the
call, append its `call` ledger row and write the new balance as an absolute value.
`call_id` is the idempotency key: the same call again answers the original outcome and
charges nothing.

This is the PBX's hot path and the lock serializes every call of one CallerID, so the
statements are few and prepared (_lock_callerid, credit.ledger.record_call): lock,
compute, the writes (one statement on PostgreSQL), commit. See docs/api.md, "Performance".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from callback import scoping
from callback.audit import Actor
from callback.models import ApiToken, CallbackExtension
from callback.prepared import Statement
from callerids.models import AuthorizedCallerID
from credit import call_days, ledger
from credit.models import Call
from credit.money import quantize4

ZERO = Decimal("0.0000")


class CallIdConflict(Exception):
    """This call_id was already used for another call (or one this token cannot see)."""


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


_EXTENSION_SQL = """
SELECT e.id, o.reseller_id FROM callback_callbackextension e
  JOIN callback_organization o ON o.id = e.organization_id
 WHERE e.number = %s
"""
_EXTENSION = Statement("call_extension", _EXTENSION_SQL)
_EXTENSION_IN_RESELLER = Statement(
    "call_extension_in_reseller", _EXTENSION_SQL + " AND o.reseller_id = %s"
)


# The CallerID's row, locked, found by its id on the reported extension in the token's
# scope: one round trip instead of looking the extension up first. FOR UPDATE OF locks the
# CallerID's row only (never the extension, organization or reseller rows it joins).
_LOCK_SQL = """
SELECT e.id, c.unlimited, c.available, o.reseller_id, c.status = 'removed'
  FROM callerids_authorizedcallerid c
  JOIN callback_callbackextension e ON e.id = c.extension_id
  JOIN callback_organization o ON o.id = e.organization_id
 WHERE c.id = %s AND e.number = %s
"""
_RESELLER = " AND o.reseller_id = %s"
_LOCKS = {
    (in_reseller, for_update): Statement(
        f"call_lock{'_in_reseller' if in_reseller else ''}{'' if for_update else '_sqlite'}",
        _LOCK_SQL + (_RESELLER if in_reseller else "") + (" FOR UPDATE OF c" if for_update else ""),
    )
    for in_reseller in (False, True)
    for for_update in (False, True)
}


def _lock_callerid(
    token: ApiToken, report: CallReport
) -> tuple[int, bool, Decimal | None, int, bool]:
    """(extension id, unlimited, available, reseller id, removed) of the reported CallerID,
    its row locked until the transaction ends; CallbackExtension.DoesNotExist when the
    extension is not in the token's scope, else AuthorizedCallerID.DoesNotExist when the
    CallerID is not on it."""
    # SQLite has no row locks (nor FOR UPDATE): its IMMEDIATE transaction serializes.
    for_update = connection.features.has_select_for_update
    params = [report.callerid_id, report.extension]
    if token.reseller_id is not None:
        params.append(token.reseller_id)
    row = _LOCKS[(token.reseller_id is not None, for_update)].fetchone(params)
    if row is None:
        _extension_id(token, report.extension)  # unknown_extension comes first
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    return row[0], bool(row[1]), ledger.decimal_from_db(row[2]), row[3], bool(row[4])


def _extension_id(token: ApiToken, number: str) -> int:
    """The extension's id when it is in the token's scope, else CallbackExtension.DoesNotExist."""
    return _extension(token, number)[0]


def _extension(token: ApiToken, number: str) -> tuple[int, int]:
    """(id, reseller id) of the extension when it is in the token's scope, else
    CallbackExtension.DoesNotExist.

    The filter of scoping.extensions_for_token (a reseller's token sees its reseller's
    extensions only) as one prepared query: this is the PBX's hot path.
    """
    if token.reseller_id is None:
        row = _EXTENSION.fetchone([number])
    else:
        row = _EXTENSION_IN_RESELLER.fetchone([number, token.reseller_id])
    if row is None:
        raise CallbackExtension.DoesNotExist("unknown extension")
    return row[0], row[1]


def _replay(token: ApiToken, extension_id: int, report: CallReport) -> CallOutcome:
    """The original outcome when `report` repeats the stored call, else CallIdConflict."""
    original = Call.objects.select_related("ledger_entry").filter(call_id=report.call_id).first()
    if original is None:
        raise LookupError(report.call_id)
    same = (
        scoping.extensions_for_token(token).filter(pk=original.extension_id).exists()
        and original.extension_id == extension_id
        and original.callerid_id == report.callerid_id
        and original.started_at == report.started_at
        and original.duration_seconds == report.duration_seconds
        and quantize4(original.cost) == quantize4(report.cost)
    )
    if not same:
        raise CallIdConflict(report.call_id)
    return _outcome_of(original, created=False)


def _call_id_used(call_id: str) -> bool:
    return Call.objects.filter(call_id=call_id).exists()


def report_call(*, token: ApiToken, report: CallReport, actor: Actor) -> CallOutcome:
    """Record the call in `report` and charge it to its CallerID.

    Requires the extension in the token's scope (else CallbackExtension.DoesNotExist) and,
    when given, a CallerID on that extension in any status, removed included (else
    AuthorizedCallerID.DoesNotExist). Raises CallIdConflict when the call_id was used for a
    different call. Without a CallerID the call is unmetered (nothing charged). An Unlimited
    CallerID is charged the whole cost with no balance change; a limited one at most what it
    has left, the rest being the shortfall.

    A call_id already recorded answers the original outcome (or CallIdConflict), never a
    second charge: the unique call_id makes the INSERT fail, the transaction rolls back and
    the stored call is compared with the report. No "already recorded?" query runs first:
    repeats are rare, and every query before the INSERT under the row lock would lengthen
    the lock that serializes every call of the CallerID.
    """
    try:
        with transaction.atomic():
            return _record(token=token, report=report, actor=actor)
    except IntegrityError:
        # The same call_id committed by an earlier or simultaneous report (unique
        # constraint): answer as a repeat, or a conflict.
        if not _call_id_used(report.call_id):
            raise
        return _replay(token, _extension_id(token, report.extension), report)
    except AuthorizedCallerID.DoesNotExist:
        # A call_id already used answers as a repeat or a conflict before the CallerID is
        # judged (a repeat cannot name another extension's CallerID: it is a conflict).
        if _call_id_used(report.call_id):
            return _replay(token, _extension_id(token, report.extension), report)
        raise


def _record(*, token: ApiToken, report: CallReport, actor: Actor) -> CallOutcome:
    cost = quantize4(report.cost)
    now = timezone.now()
    fields = {
        "call_id": report.call_id,
        "callerid": report.callerid_id,
        "caller_id": report.caller_id,
        "destination": report.destination,
        "started_at": report.started_at,
        "duration_seconds": report.duration_seconds,
        "cost": cost,
        "token": token.pk,
        "created_at": now,
    }
    if report.callerid_id is None:
        fields["extension"], reseller_id = _extension(token, report.extension)
        ledger.insert_row(Call, {**fields, "charged": ZERO, "shortfall": ZERO, "metered": False})
        call_days.count_call(
            reseller_id=reseller_id,
            started_at=report.started_at,
            metered=False,
            seconds=report.duration_seconds,
            cost=cost,
        )
        return CallOutcome(
            created=True,
            call_id=report.call_id,
            callerid_id=None,
            metered=False,
            charged=ZERO,
            shortfall=ZERO,
            available=None,
        )

    # The CallerID's row lock serializes every charge and recharge of this balance, so two
    # calls ending together cannot both spend the same credit. From here to the commit
    # run only the computation in Decimal and the writes (call, ledger row, balance).
    # Any status, removed included: the call happened; but only a CallerID of this extension
    # (which also keeps the token's scope, as the extension is in it).
    fields["extension"], unlimited, available, reseller_id, removed = _lock_callerid(token, report)
    if unlimited:
        charged, shortfall, balance = cost, ZERO, None
    else:
        available = quantize4(available)
        charged = min(cost, available)
        shortfall = cost - charged
        balance = quantize4(available - charged)
    ledger.record_call(
        call={**fields, "charged": charged, "shortfall": shortfall, "metered": True},
        callerid_id=report.callerid_id,
        reseller_id=reseller_id,
        charged=charged,
        balance_after=balance,
        actor=actor,
        created_at=now,
    )
    # The reseller's day and credit totals last (the lock order of credit_totals).
    call_days.count_call(
        reseller_id=reseller_id,
        started_at=report.started_at,
        metered=True,
        seconds=report.duration_seconds,
        cost=cost,
        charged=charged,
        shortfall=shortfall,
        outstanding_change=ZERO if unlimited or removed else -charged,
    )
    return CallOutcome(
        created=True,
        call_id=report.call_id,
        callerid_id=report.callerid_id,
        metered=True,
        charged=quantize4(charged),
        shortfall=quantize4(shortfall),
        available=balance,
    )
