"""The PBX reports a finished call; its cost is taken from the CallerID's credit (SPEC §9).

One transaction records the call and charges it: lock the CallerID's row, compute what is
charged in Decimal (never more than what is left; the rest is the shortfall), insert the
call, append its `call` ledger row and write the new balance as an absolute value.
`call_id` is the idempotency key: the same call again answers the original outcome and
charges nothing.

This is the PBX's hot path and the lock serializes every call of one CallerID, so the
statements are few and prepared (_lock_statement, credit.ledger.record_call): lock,
compute, the writes (one statement on PostgreSQL, the reseller's day and totals included),
commit. See docs/api.md, "Performance".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from callback.scope import extensions_for_token
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.selectors import callerid_data, callerid_lock
from credit import call_days, ledger
from credit.models import Call, CallHold, HoldStatus
from credit.services import holds
from credit.services.holds import (
    CallIdConflict,
    cost_of,
    extension_and_reseller,
    extension_in_scope,
)
from database.prepared import Statement
from database.tables import table
from notifications import services as notifications
from notifications.models import EventType
from tenancy.audit import Actor
from tenancy.models import ApiToken
from values.money import ZERO, quantize4


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
    cost: Decimal | None  # None: computed from the call's start (SPEC §11)


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


# The CallerID's row under the CallerID lock (callerids.selectors.callerid_lock: FOR UPDATE
# OF the CallerID's row only, never the extension, organization or reseller rows it joins),
# found by its id on the reported extension in the token's scope: one round trip instead of
# looking the extension up first. The query is the ORM's, prepared once per process as a
# statement (on SQLite, which has no row locks, the same query without FOR UPDATE: its
# IMMEDIATE transaction serializes).
_ID, _NUMBER, _RESELLER = -1_000_000_001, "\x00extension-number", -1_000_000_002
_LOCKS: dict[bool, tuple[Statement, list]] = {}


def _lock_statement(in_reseller: bool) -> tuple[Statement, list]:
    """The statement, and for each of its placeholders the index of the value passed
    (0 the CallerID's id, 1 the extension's number, 2 the reseller's id) or a constant."""
    if in_reseller not in _LOCKS:
        scope = AuthorizedCallerID.objects.filter(pk=_ID, extension__number=_NUMBER)
        if in_reseller:
            scope = scope.filter(extension__organization__reseller_id=_RESELLER)
        removed = ExpressionWrapper(Q(status=CallerIDStatus.REMOVED), output_field=BooleanField())
        query = (
            callerid_lock(scope)
            .order_by()
            .values_list(
                "extension_id",
                "unlimited",
                "available",
                "extension__organization__reseller_id",
                "extension__daily_limit",
                removed,
            )
        )
        sql, params = query.query.sql_with_params()
        where = {_ID: 0, _NUMBER: 1, _RESELLER: 2}
        plan = [where.get(value, ("constant", str(value))) for value in params]
        name = f"call_lock{'_in_reseller' if in_reseller else ''}"
        _LOCKS[in_reseller] = (Statement(name, sql), plan)
    return _LOCKS[in_reseller]


def _lock_callerid(
    token: ApiToken, report: CallReport
) -> tuple[int, bool, Decimal | None, int, Decimal | None, bool]:
    """(extension id, unlimited, available, reseller id, the extension's daily limit,
    removed) of the reported CallerID, its row locked until the transaction ends;
    CallbackExtension.DoesNotExist when the extension is not in the token's scope, else
    AuthorizedCallerID.DoesNotExist when the CallerID is not on it."""
    statement, plan = _lock_statement(token.reseller_id is not None)
    values = (report.callerid_id, report.extension, token.reseller_id)
    params = [values[item] if isinstance(item, int) else item[1] for item in plan]
    row = statement.fetchone(params)
    if row is None:
        extension_in_scope(token, report.extension)  # unknown_extension comes first
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    return (
        row[0],
        bool(row[1]),
        ledger.decimal_from_db(row[2]),
        row[3],
        ledger.decimal_from_db(row[4]),
        bool(row[5]),
    )


def _replay(token: ApiToken, extension_id: int, report: CallReport) -> CallOutcome:
    """The original outcome when `report` repeats the stored call, else CallIdConflict."""
    original = Call.objects.select_related("ledger_entry").filter(call_id=report.call_id).first()
    if original is None:
        raise LookupError(report.call_id)
    cost = report.cost
    if cost is None:
        hold = CallHold.objects.filter(call_id=report.call_id).first()
        cost = _cost_from_hold(hold, report) if hold is not None else None
    same = (
        extensions_for_token(token).filter(pk=original.extension_id).exists()
        and original.extension_id == extension_id
        and original.callerid_id == report.callerid_id
        and original.started_at == report.started_at
        and original.duration_seconds == report.duration_seconds
        and cost is not None
        and quantize4(original.cost) == quantize4(cost)
    )
    if not same:
        raise CallIdConflict(report.call_id)
    return _outcome_of(original, created=False)


def _daily_limit_event(
    report: CallReport, reseller_id: int, limit: Decimal, charged, balance, now
) -> None:
    """daily_limit.reached when this call's charge takes the CallerID's charges of today
    (calls started since midnight, server time zone, as calls/start counts them) from below
    the extension's daily limit to it or above: once per day and CallerID."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if report.started_at < today:
        return
    amounts = Call.objects.filter(
        callerid_id=report.callerid_id, started_at__gte=today
    ).values_list("charged", flat=True)
    after = sum((ledger.decimal_from_db(value) for value in amounts), ZERO)
    if after - charged < limit <= after:
        notifications.emit(
            type=EventType.DAILY_LIMIT_REACHED,
            reseller_id=reseller_id,
            data={
                **callerid_data(report.callerid_id, balance=balance),
                "daily_limit": str(quantize4(limit)),
                "charged_today": str(quantize4(after)),
            },
        )


def _call_id_used(call_id: str) -> bool:
    return Call.objects.filter(call_id=call_id).exists()


def report_call(
    *, token: ApiToken, report: CallReport, actor: Actor, now: datetime | None = None
) -> CallOutcome:
    """Record the call in `report` and charge it to its CallerID, settling its hold.

    Requires the extension in the token's scope (else CallbackExtension.DoesNotExist) and,
    when given, a CallerID on that extension in any status, removed included (else
    AuthorizedCallerID.DoesNotExist). Raises CallIdConflict when the call_id was used for a
    different call (or started for another extension or CallerID), MissingCost when the
    cost is left out for a call that was never started. Without a CallerID the call is
    unmetered (nothing charged). An Unlimited CallerID is charged the whole cost with no
    balance change. A limited one (SPEC §11, Settling): with an open hold, the cost when it
    is within the hold, else what the balance minus the other open holds allows; without
    one (never started, or expired/released), what the balance minus the open holds allows;
    the rest is the shortfall. The hold becomes settled in the same transaction.

    A call_id already recorded answers the original outcome (or CallIdConflict), never a
    second charge: the unique call_id makes the INSERT fail, the transaction rolls back and
    the stored call is compared with the report. No "already recorded?" query runs first:
    repeats are rare, and every query before the INSERT under the row lock would lengthen
    the lock that serializes every call of the CallerID.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _record(token=token, report=report, actor=actor, now=now)
    except IntegrityError:
        # The same call_id committed by an earlier or simultaneous report (unique
        # constraint): answer as a repeat, or a conflict.
        if not _call_id_used(report.call_id):
            raise
        return _replay(token, extension_in_scope(token, report.extension), report)
    except (AuthorizedCallerID.DoesNotExist, CallIdConflict, MissingCost):
        # A call_id already used answers as a repeat or a conflict before the CallerID is
        # judged (a repeat cannot name another extension's CallerID: it is a conflict).
        if _call_id_used(report.call_id):
            return _replay(token, extension_in_scope(token, report.extension), report)
        raise


class MissingCost(Exception):
    """No cost was reported for a call that was never started (nothing to compute it from)."""


def _cost_from_hold(hold, report: CallReport) -> Decimal:
    return cost_of(
        rate_per_minute=hold.rate_per_minute,
        connection_fee=hold.connection_fee,
        seconds=report.duration_seconds,
    )


# The hold of a call_id and the reservations of the CallerID's other open holds, read after
# its row lock (so every hold committed before is seen); PostgreSQL also expires the
# CallerID's overdue holds in the same statement (elsewhere holds.expire_holds_of runs first).
_SETTLE_SQL = f"""SELECT
       (SELECT COALESCE(SUM(o.reserved), 0) FROM {table(CallHold)} o
         WHERE o.callerid_id = %s AND o.status = 'open' AND o.expires_at > %s
           AND o.call_id <> %s),
       h.id, h.status, h.expires_at, h.extension_id, h.callerid_id, h.reserved,
       h.rate_per_minute, h.connection_fee
  FROM (SELECT 1 AS one) one LEFT JOIN {table(CallHold)} h ON h.call_id = %s"""
_SETTLE = {
    cte: Statement(
        f"settle_read{'_cte' if cte else ''}",
        (f"WITH expired AS ({holds.EXPIRE_SQL} RETURNING id) " if cte else "") + _SETTLE_SQL,
    )
    for cte in (False, True)
}
_HOLD_SQL = (
    "SELECT id, status, expires_at, extension_id, callerid_id, reserved, rate_per_minute,"
    f" connection_fee FROM {table(CallHold)} WHERE call_id = %s"
)
_HOLD = Statement("settle_hold", _HOLD_SQL)
_CLOSE_HOLD = Statement(
    "settle_close_hold",
    f"UPDATE {table(CallHold)} SET status = 'settled', closed_at = %s, settled_call_id = %s"
    " WHERE id = %s AND status = 'open'",
)
# The same inside credit.ledger.record_call's statement, where the call's id is new_call's.
_CLOSE_HOLD_WITH_CALL = (
    f"UPDATE {table(CallHold)} SET status = 'settled', closed_at = %s,"
    " settled_call_id = (SELECT id FROM new_call) WHERE id = %s AND status = 'open' RETURNING 1"
)


@dataclass(frozen=True, slots=True)
class _Hold:
    pk: int
    open: bool  # open and not past its expiry
    extension_id: int
    callerid_id: int | None
    reserved: Decimal
    rate_per_minute: Decimal
    connection_fee: Decimal


def _hold_from(row, now: datetime) -> _Hold | None:
    if row is None or row[0] is None:
        return None
    expires = row[2]
    if isinstance(expires, str):  # SQLite
        expires = datetime.fromisoformat(expires).replace(tzinfo=UTC)
    elif timezone.is_naive(expires):
        expires = timezone.make_aware(expires, UTC)
    return _Hold(
        pk=row[0],
        open=row[1] == HoldStatus.OPEN and expires > now,
        extension_id=row[3],
        callerid_id=row[4],
        reserved=ledger.decimal_from_db(row[5]),
        rate_per_minute=ledger.decimal_from_db(row[6]),
        connection_fee=ledger.decimal_from_db(row[7]),
    )


def _close(hold: _Hold | None, call_pk: int, now: datetime) -> None:
    if hold is None or not hold.open:
        return
    with connection.cursor() as cursor:
        _CLOSE_HOLD.execute(cursor, [holds.dt(now), call_pk, hold.pk])


def _check_hold(hold: _Hold | None, extension_id: int, report: CallReport) -> Decimal:
    """The cost to charge: as reported, or computed from the start; CallIdConflict when the
    call was started on another extension or CallerID, MissingCost without cost nor start."""
    if hold is not None and (
        hold.extension_id != extension_id or hold.callerid_id != report.callerid_id
    ):
        raise CallIdConflict(report.call_id)
    if report.cost is not None:
        return quantize4(report.cost)
    if hold is None:
        raise MissingCost(report.call_id)
    return _cost_from_hold(hold, report)


def _record(*, token: ApiToken, report: CallReport, actor: Actor, now: datetime) -> CallOutcome:
    fields = {
        "call_id": report.call_id,
        "callerid": report.callerid_id,
        "caller_id": report.caller_id,
        "destination": report.destination,
        "started_at": report.started_at,
        "duration_seconds": report.duration_seconds,
        "cost": None,
        "token": token.pk,
        "created_at": now,
    }
    if report.callerid_id is None:
        fields["extension"], reseller_id = extension_and_reseller(token, report.extension)
        hold = _hold_from(_HOLD.fetchone([report.call_id]), now)
        fields["cost"] = _check_hold(hold, fields["extension"], report)
        call_pk = ledger.insert_row(
            Call, {**fields, "charged": ZERO, "shortfall": ZERO, "metered": False}
        )
        _close(hold, call_pk, now)
        call_days.count_call(
            reseller_id=reseller_id,
            started_at=report.started_at,
            metered=False,
            seconds=report.duration_seconds,
            cost=fields["cost"],
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

    # The CallerID's row lock serializes every charge, hold and recharge of this balance, so
    # two calls ending together cannot both spend the same credit. From here to the commit
    # run only the reads of its holds, the computation in Decimal and the writes.
    # Any status, removed included: the call happened; but only a CallerID of this extension
    # (which also keeps the token's scope, as the extension is in it).
    (
        fields["extension"],
        unlimited,
        available,
        reseller_id,
        daily_limit,
        removed,
    ) = _lock_callerid(token, report)
    cte = connection.vendor == "postgresql"
    if not cte:
        holds.expire_holds_of(report.callerid_id, now=now)
    params = [holds.dt(now), report.callerid_id, holds.dt(now)] if cte else []
    params += [report.callerid_id, holds.dt(now), report.call_id, report.call_id]
    row = _SETTLE[cte].fetchone(params)
    others = ledger.decimal_from_db(row[0]) or ZERO
    hold = _hold_from(row[1:], now)
    cost = fields["cost"] = _check_hold(hold, fields["extension"], report)
    if unlimited:
        charged, shortfall, balance = cost, ZERO, None
    else:
        available = quantize4(available)
        if hold is not None and hold.open and cost <= hold.reserved:
            charged = cost
        else:
            # Beyond its hold (or without one) a call may take only what no other call in
            # progress holds: their holds stay covered by the balance.
            charged = min(cost, max(available - others, ZERO))
        charged = min(charged, available)
        shortfall = cost - charged
        balance = quantize4(available - charged)
    # The reseller's day and credit totals (SPEC §14) after the CallerID's lock, their rows
    # the last locks taken (callerids/services/credit_totals.py); on PostgreSQL in the
    # call's own statement, one round trip less while the CallerID's row is locked.
    day = {
        "reseller_id": reseller_id,
        "started_at": report.started_at,
        "metered": True,
        "seconds": report.duration_seconds,
        "cost": cost,
        "charged": charged,
        "shortfall": shortfall,
        "outstanding_change": ZERO if unlimited or removed else -charged,
    }
    in_statement = connection.vendor == "postgresql"
    also: tuple[tuple[str, ...], list] = ((), [])
    if in_statement:
        # Every write in one statement: the call, its ledger row, the balance, the hold
        # settled, the day and the totals; the CallerID's lock is then held for two round
        # trips (this statement and the commit).
        queries, params = call_days.writes(**day)
        if hold is not None and hold.open:
            queries, params = (_CLOSE_HOLD_WITH_CALL, *queries), [holds.dt(now), hold.pk, *params]
        also = (queries, params)
    call_pk = ledger.record_call(
        call={**fields, "charged": charged, "shortfall": shortfall, "metered": True},
        callerid_id=report.callerid_id,
        reseller_id=reseller_id,
        charged=charged,
        balance_after=balance,
        actor=actor,
        created_at=now,
        also=also,
    )
    if not in_statement:
        _close(hold, call_pk, now)
        call_days.count_call(**day)
    if balance is not None:
        # Crossings only (no query unless one fires), in the call's transaction (SPEC §12).
        notifications.credit_changed(
            callerid_id=report.callerid_id,
            reseller_id=reseller_id,
            before=available,
            after=balance,
            describe=callerid_data,
        )
        if daily_limit is not None and charged > 0:
            _daily_limit_event(report, reseller_id, daily_limit, charged, balance, now)
    return CallOutcome(
        created=True,
        call_id=report.call_id,
        callerid_id=report.callerid_id,
        metered=True,
        charged=quantize4(charged),
        shortfall=quantize4(shortfall),
        available=balance,
    )
