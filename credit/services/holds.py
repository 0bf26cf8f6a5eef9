"""Call admission (SPEC §11): `POST /api/v1/calls/start` holds credit for a call in
progress; the report (credit.services.calls) settles the hold; expiry and users release it.

A hold is a reservation, not money: it writes no ledger row. New calls may use only the
balance minus the CallerID's open holds, so two calls at once cannot spend the same credit.

Lock order (the same in every transaction that touches holds, so two of them can never wait
for each other): the License and Reseller rows (status changes only), then the CallerID row
(FOR UPDATE: every hold of a metered CallerID is created, settled, expired and released
under it), then — only for a start on an extension with a simultaneous-call limit — the
extension row (FOR NO KEY UPDATE: it serializes the extension's count of open holds without
blocking the foreign-key checks of inserts that reference the extension, nor reads). Nothing
locks an extension row and then a CallerID row.

Every statement of the start is prepared (database.prepared): this is the PBX's hot path.
On PostgreSQL a start is: lock (one statement that also reads the extension, its owners'
flags and both sets of destination rules), [lock the extension], read the open holds (one
statement that also expires the CallerID's overdue holds), insert the hold, commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from callback.destinations import denial, read_destination, rules_from_row
from callback.models import CallbackExtension, DestinationRules, ReturnMode
from callback.scope import extensions_for, extensions_for_token
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.selectors import lock_callerid
from credit import ledger
from credit.models import Call, CallHold, HoldStatus
from database.prepared import Statement
from database.tables import table
from tenancy import scoping
from tenancy.audit import Actor, record
from tenancy.models import ApiToken, Organization, Reseller
from tenancy.preferences import get_preferences_cached
from values.errors import DomainError
from values.money import FOUR_PLACES, quantize4

ZERO = Decimal("0.0000")
# A hold still open this long after its time limit is released without a charge.
EXPIRY_GRACE = timedelta(seconds=300)

ALLOW = "allow"
DENY = "deny"
DISABLED = "disabled"
TOO_MANY_CALLS = "too_many_calls"
DAILY_LIMIT_REACHED = "daily_limit_reached"
NO_CREDIT = "no_credit"


class CallIdConflict(Exception):
    """This call_id was already used for another call (or one this token cannot see)."""


@dataclass(frozen=True)
class CallStart:
    """A call about to be connected, as the PBX asks (already validated)."""

    call_id: str
    extension: str
    callerid_id: int | None
    destination: str
    rate_per_minute: Decimal
    connection_fee: Decimal = ZERO


@dataclass(frozen=True)
class StartOutcome:
    """What calls/start answers; `created` False when it repeats an earlier start."""

    created: bool
    decision: str
    call_id: str
    reason: str | None = None
    max_duration_seconds: int | None = None
    held: Decimal | None = None
    available: Decimal | None = None


def ceil4(value: Decimal) -> Decimal:
    """Rounded up to 4 decimals: a hold (or a computed cost) never falls short by rounding."""
    return value.quantize(FOUR_PLACES, rounding=ROUND_CEILING)


def cost_of(*, rate_per_minute: Decimal, connection_fee: Decimal, seconds: int) -> Decimal:
    """connection_fee + rate × seconds / 60, rounded up to 4 decimals (SPEC §11)."""
    return ceil4(connection_fee + rate_per_minute * seconds / 60)


def expires_at(started_at: datetime, max_duration_seconds: int) -> datetime:
    return started_at + timedelta(seconds=max_duration_seconds) + EXPIRY_GRACE


def dt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


# -- The start's statements ----------------------------------------------------------------

_EXTENSION_COLUMNS = """e.id, e.active, o.active, r.active, e.return_mode,
       e.max_call_duration_seconds, e.max_calls_per_callerid, e.max_calls, e.daily_limit,
       sr.blocked_prefixes, sr.allowed_countries, sr.refuse_premium, sr.max_rate_per_minute,
       rr.blocked_prefixes, rr.allowed_countries, rr.refuse_premium, rr.max_rate_per_minute"""
_EXTENSION_JOINS = f"""
  JOIN {table(Organization)} o ON o.id = e.organization_id
  JOIN {table(Reseller)} r ON r.id = o.reseller_id
  LEFT JOIN {table(DestinationRules)} sr ON sr.reseller_id IS NULL
  LEFT JOIN {table(DestinationRules)} rr ON rr.reseller_id = o.reseller_id"""


def _start_statements() -> dict[tuple[bool, bool, bool], Statement]:
    """(metered, in_reseller, for_update) -> the statement that reads (and, metered, locks
    the CallerID of) a start. FOR UPDATE OF c locks the CallerID's row only."""
    statements = {}
    for metered in (False, True):
        for in_reseller in (False, True):
            for for_update in (False, True):
                if metered:
                    sql = (
                        f"SELECT {_EXTENSION_COLUMNS}, c.id, c.status, c.unlimited, c.available"
                        f" FROM {table(AuthorizedCallerID)} c"
                        f" JOIN {table(CallbackExtension)} e ON e.id = c.extension_id"
                        f"{_EXTENSION_JOINS} WHERE c.id = %s AND e.number = %s"
                    )
                else:
                    sql = (
                        f"SELECT {_EXTENSION_COLUMNS} FROM {table(CallbackExtension)} e"
                        f"{_EXTENSION_JOINS} WHERE e.number = %s"
                    )
                if in_reseller:
                    sql += " AND o.reseller_id = %s"
                if metered and for_update:
                    sql += " FOR UPDATE OF c"
                name = "start_{}{}{}".format(
                    "metered" if metered else "open",
                    "_in_reseller" if in_reseller else "",
                    "" if for_update else "_nolock",
                )
                statements[(metered, in_reseller, for_update)] = Statement(name, sql)
    return statements


_START = _start_statements()

_LOCK_EXTENSION = Statement(
    "start_lock_extension",
    f"SELECT id FROM {table(CallbackExtension)} WHERE id = %s FOR NO KEY UPDATE",
)

# Overdue holds of one CallerID, released (run under its row lock).
EXPIRE_SQL = (
    f"UPDATE {table(CallHold)} SET status = 'expired', closed_at = %s"
    " WHERE callerid_id = %s AND status = 'open' AND expires_at <= %s"
)
_EXPIRE = Statement("expire_callerid_holds", EXPIRE_SQL)

# After the locks (a new snapshot: every hold committed before we got the lock is seen):
# the CallerID's open holds (count, reserved, reserved by holds started today), what it
# was charged today, the extension's open holds, and whether call_id was already started
# (a repeat) or reported as a call without a start (a conflict). Holds past their expiry
# do not count (PostgreSQL expires them in the same statement; elsewhere _EXPIRE runs first).
_OPEN_SQL = """SELECT count(h.id), COALESCE(SUM(h.reserved), 0),
       COALESCE(SUM(CASE WHEN h.started_at >= %s THEN h.reserved ELSE 0 END), 0),
       {daily}, {extension},
       (SELECT count(*) FROM {holds} s WHERE s.call_id = %s),
       (SELECT count(*) FROM {calls} k WHERE k.call_id = %s)
  FROM {holds} h
 WHERE h.callerid_id = %s AND h.status = 'open' AND h.expires_at > %s"""
_DAILY_SQL = (
    f"(SELECT COALESCE(SUM(d.charged), 0) FROM {table(Call)} d"
    " WHERE d.callerid_id = %s AND d.started_at >= %s)"
)
_EXTENSION_COUNT_SQL = (
    f"(SELECT count(*) FROM {table(CallHold)} x"
    " WHERE x.extension_id = %s AND x.status = 'open' AND x.expires_at > %s)"
)


def _open_statements() -> dict[tuple[bool, bool, bool], Statement]:
    """(daily, extension_count, expire_in_cte) -> the open-holds statement."""
    statements = {}
    for daily in (False, True):
        for count in (False, True):
            for cte in (False, True):
                sql = _OPEN_SQL.format(
                    daily=_DAILY_SQL if daily else "0",
                    extension=_EXTENSION_COUNT_SQL if count else "0",
                    holds=table(CallHold),
                    calls=table(Call),
                )
                if cte:
                    sql = f"WITH expired AS ({EXPIRE_SQL} RETURNING id) {sql}"
                name = f"start_open{'_daily' if daily else ''}{'_count' if count else ''}"
                statements[(daily, count, cte)] = Statement(name + ("_cte" if cte else ""), sql)
    return statements


_OPEN = _open_statements()

# The same for an open-mode start (no CallerID).
_UNMETERED_SQL = """SELECT (SELECT count(*) FROM {holds} s WHERE s.call_id = %s),
       (SELECT count(*) FROM {calls} k WHERE k.call_id = %s), {extension}"""
_UNMETERED = {
    count: Statement(
        f"start_unmetered{'_count' if count else ''}",
        _UNMETERED_SQL.format(
            extension=_EXTENSION_COUNT_SQL if count else "0",
            holds=table(CallHold),
            calls=table(Call),
        ),
    )
    for count in (False, True)
}


class _AlreadyStarted(Exception):
    """call_id was started before: answer that start (outside the transaction)."""


@dataclass(frozen=True, slots=True)
class _Admission:
    """What the start reads of the extension, its owners, the rules and the CallerID."""

    extension_id: int
    active: bool
    return_mode: str
    max_duration: int
    max_calls_per_callerid: int | None
    max_calls: int | None
    daily_limit: Decimal | None
    rules: tuple
    callerid_status: str | None = None
    unlimited: bool = False
    balance: Decimal | None = None


def _read(token: ApiToken, start: CallStart) -> _Admission:
    metered = start.callerid_id is not None
    in_reseller = token.reseller_id is not None
    # SQLite has no row locks (nor FOR UPDATE): its IMMEDIATE transaction serializes.
    for_update = connection.features.has_select_for_update
    params: list = [start.callerid_id, start.extension] if metered else [start.extension]
    if in_reseller:
        params.append(token.reseller_id)
    row = _START[(metered, in_reseller, for_update)].fetchone(params)
    if row is None:
        extension_in_scope(token, start.extension)  # unknown_extension comes first
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    admission = _Admission(
        extension_id=row[0],
        active=bool(row[1]) and bool(row[2]) and bool(row[3]),
        return_mode=row[4],
        max_duration=row[5],
        max_calls_per_callerid=row[6],
        max_calls=row[7],
        daily_limit=ledger.decimal_from_db(row[8]),
        rules=(
            rules_from_row(row[9], row[10], row[11], ledger.decimal_from_db(row[12])),
            rules_from_row(row[13], row[14], row[15], ledger.decimal_from_db(row[16])),
        ),
    )
    if not metered:
        return admission
    return replace(
        admission,
        callerid_status=row[18],
        unlimited=bool(row[19]),
        balance=ledger.decimal_from_db(row[20]),
    )


_EXTENSION_SQL = f"""
SELECT e.id, o.reseller_id FROM {table(CallbackExtension)} e
  JOIN {table(Organization)} o ON o.id = e.organization_id
 WHERE e.number = %s
"""
_EXTENSION = Statement("call_extension", _EXTENSION_SQL)
_EXTENSION_IN_RESELLER = Statement(
    "call_extension_in_reseller", _EXTENSION_SQL + " AND o.reseller_id = %s"
)


def extension_in_scope(token: ApiToken, number: str) -> int:
    """The extension's id when it is in the token's scope, else CallbackExtension.DoesNotExist."""
    return extension_and_reseller(token, number)[0]


def extension_and_reseller(token: ApiToken, number: str) -> tuple[int, int]:
    """(id, reseller id) of the extension when it is in the token's scope, else
    CallbackExtension.DoesNotExist.

    The filter of extensions_for_token (a reseller's token sees its reseller's
    extensions only) as one prepared query: this is the PBX's hot path.
    """
    if token.reseller_id is None:
        row = _EXTENSION.fetchone([number])
    else:
        row = _EXTENSION_IN_RESELLER.fetchone([number, token.reseller_id])
    if row is None:
        raise CallbackExtension.DoesNotExist("unknown extension")
    return row[0], row[1]


def _today_start(now: datetime) -> datetime:
    """Midnight of `now`'s day in the server time zone (the daily limit's "today")."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _deny(start: CallStart, reason: str) -> StartOutcome:
    return StartOutcome(created=False, decision=DENY, call_id=start.call_id, reason=reason)


def start_call(*, token: ApiToken, start: CallStart, now: datetime | None = None) -> StartOutcome:
    """Admit (or deny) a call about to be connected, holding credit for it (SPEC §11).

    Requires the extension in the token's scope (else CallbackExtension.DoesNotExist) and,
    when given, a CallerID on it (else AuthorizedCallerID.DoesNotExist). Raises
    CallIdConflict when call_id names another call. Denies with the first reason that
    applies: disabled, destination_blocked, premium_rate, rate_too_high, too_many_calls,
    daily_limit_reached, no_credit (a denial writes nothing). Otherwise inserts an open
    hold of connection_fee + rate × max_duration / 60 (rounded up, never more than what is
    usable; nothing for Unlimited and open-mode calls) and answers the time limit.
    The same start again answers the original outcome with created False.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _start(token, start, now)
    except _AlreadyStarted:
        return _replay_start(token, start)
    except IntegrityError:
        # The same call_id committed by an earlier or simultaneous start (unique key).
        if not CallHold.objects.filter(call_id=start.call_id).exists():
            raise
        return _replay_start(token, start)
    except AuthorizedCallerID.DoesNotExist:
        if CallHold.objects.filter(call_id=start.call_id).exists():
            return _replay_start(token, start)
        raise


def _start(token: ApiToken, start: CallStart, now: datetime) -> StartOutcome:
    metered = start.callerid_id is not None
    # The CallerID's row lock first (taken by _read): it serializes every hold, charge and
    # recharge of this balance, so the open holds read below are all there are.
    admission = _read(token, start)
    count_extension = admission.max_calls is not None
    if count_extension and connection.features.has_select_for_update:
        # Then the extension's row (lock order: CallerID, then extension): starts on this
        # extension wait here one at a time, so its count of open holds cannot be passed.
        _LOCK_EXTENSION.fetchone([admission.extension_id])

    daily = metered and admission.daily_limit is not None and not admission.unlimited
    if metered:
        today = _today_start(now)
        cte = connection.vendor == "postgresql"
        if not cte:
            with connection.cursor() as cursor:
                _EXPIRE.execute(cursor, [dt(now), start.callerid_id, dt(now)])
        params: list = [dt(now), start.callerid_id, dt(now)] if cte else []
        params.append(dt(today))
        if daily:
            params += [start.callerid_id, dt(today)]
        if count_extension:
            params += [admission.extension_id, dt(now)]
        params += [start.call_id, start.call_id, start.callerid_id, dt(now)]
        row = _OPEN[(daily, count_extension, cte)].fetchone(params)
        callerid_calls = row[0]
        reserved = ledger.decimal_from_db(row[1]) or ZERO
        reserved_today = ledger.decimal_from_db(row[2]) or ZERO
        charged_today = ledger.decimal_from_db(row[3]) or ZERO
        extension_calls, started, reported = row[4], row[5], row[6]
    else:
        params = [start.call_id, start.call_id]
        if count_extension:
            params += [admission.extension_id, dt(now)]
        started, reported, extension_calls = _UNMETERED[count_extension].fetchone(params)
        callerid_calls = 0
    if started:
        raise _AlreadyStarted(start.call_id)
    if reported:
        raise CallIdConflict(start.call_id)

    if (
        not admission.active
        or (metered and admission.callerid_status != CallerIDStatus.ENABLED)
        # An open-mode start on an extension that calls back only its list would be an
        # unmetered call at the operator's cost: refused.
        or (not metered and admission.return_mode == ReturnMode.AUTHORIZED)
    ):
        return _deny(start, DISABLED)
    preferences = get_preferences_cached()
    destination = read_destination(start.destination, preferences.default_country)
    reason = denial(destination, start.rate_per_minute, admission.rules)
    if reason is not None:
        return _deny(start, reason)
    if count_extension and extension_calls >= admission.max_calls:
        return _deny(start, TOO_MANY_CALLS)
    if (
        metered
        and admission.max_calls_per_callerid is not None
        and callerid_calls >= admission.max_calls_per_callerid
    ):
        return _deny(start, TOO_MANY_CALLS)

    rate, fee = quantize4(start.rate_per_minute), quantize4(start.connection_fee)
    held = available = None
    max_duration = admission.max_duration
    if metered and not admission.unlimited:
        usable = quantize4(admission.balance) - reserved
        if daily:
            left_today = admission.daily_limit - charged_today - reserved_today
            if left_today <= 0:
                return _deny(start, DAILY_LIMIT_REACHED)
            usable = min(usable, left_today)
        if usable <= 0 or usable < fee:
            return _deny(start, NO_CREDIT)
        if rate > 0:
            max_duration = min(max_duration, math.floor((usable - fee) * 60 / rate))
        if max_duration < 1:
            return _deny(start, NO_CREDIT)
        held = min(cost_of(rate_per_minute=rate, connection_fee=fee, seconds=max_duration), usable)
        available = quantize4(usable - held)

    ledger.insert_row(
        CallHold,
        {
            "call_id": start.call_id,
            "extension": admission.extension_id,
            "callerid": start.callerid_id,
            "destination": start.destination,
            "rate_per_minute": rate,
            "connection_fee": fee,
            "max_duration_seconds": max_duration,
            "held": held,
            "available_after": available,
            "reserved": held if held is not None else ZERO,
            "status": HoldStatus.OPEN.value,
            "started_at": now,
            "expires_at": expires_at(now, max_duration),
            "closed_at": None,
            "settled_call": None,
            "token": token.pk,
        },
    )
    return StartOutcome(
        created=True,
        decision=ALLOW,
        call_id=start.call_id,
        max_duration_seconds=max_duration,
        held=held,
        available=available,
    )


def _replay_start(token: ApiToken, start: CallStart) -> StartOutcome:
    """The original answer when `start` repeats the stored one, else CallIdConflict."""
    hold = CallHold.objects.filter(call_id=start.call_id).first()
    if hold is None:
        raise LookupError(start.call_id)
    same = (
        extensions_for_token(token).filter(pk=hold.extension_id).exists()
        and hold.extension_id == extension_in_scope(token, start.extension)
        and hold.callerid_id == start.callerid_id
        and hold.destination == start.destination
        and hold.rate_per_minute == quantize4(start.rate_per_minute)
        and hold.connection_fee == quantize4(start.connection_fee)
    )
    if not same:
        raise CallIdConflict(start.call_id)
    return StartOutcome(
        created=False,
        decision=ALLOW,
        call_id=hold.call_id,
        max_duration_seconds=hold.max_duration_seconds,
        held=quantize4(hold.held) if hold.held is not None else None,
        available=quantize4(hold.available_after) if hold.available_after is not None else None,
    )


# -- Releasing holds -----------------------------------------------------------------------


def expire_holds_of(callerid_id: int, *, now: datetime | None = None) -> int:
    """Release the CallerID's overdue holds (status expired); the caller holds its row lock.
    Returns how many."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        _EXPIRE.execute(cursor, [dt(now), callerid_id, dt(now)])
        return cursor.rowcount


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Release every hold still open `max_duration_seconds` + 300 s after its start, without
    a charge (status expired); return how many. Called by `manage.py release_expired_holds`
    and the periodic task; safe to run at any time and from several processes at once.

    One short transaction per CallerID, under its row lock (holds of a CallerID change only
    under it); open-mode holds (no CallerID, nothing held) in one statement.
    """
    now = now or timezone.now()
    overdue = CallHold.objects.filter(status=HoldStatus.OPEN, expires_at__lte=now)
    released = overdue.filter(callerid__isnull=True).update(
        status=HoldStatus.EXPIRED, closed_at=now
    )
    callerid_ids = list(
        overdue.filter(callerid__isnull=False)
        .order_by("callerid_id")
        .values_list("callerid_id", flat=True)
        .distinct()
    )
    for callerid_id in callerid_ids:
        with transaction.atomic():
            lock_callerid(callerid_id)
            released += expire_holds_of(callerid_id, now=now)
    return released


HOLD_NOT_OPEN = "This call is no longer in progress (it was {status}); nothing to release."


def release_hold(*, actor: Actor, hold: CallHold | int, now: datetime | None = None) -> CallHold:
    """A user releases a stuck hold from the calls-in-progress page: it is closed without a
    charge (status released; a report arriving later is charged as a call without a hold).

    Requires a writing role with the hold's extension in scope (Http404 / PermissionDenied
    via tenancy.scoping); DomainError when the hold is no longer open. Writes a
    `hold.release` audit event.
    """
    now = now or timezone.now()
    pk = hold.pk if isinstance(hold, CallHold) else hold
    scoping.require_write(actor.user)
    with transaction.atomic():
        found = (
            CallHold.objects.filter(extension__in=extensions_for(actor.user))
            .select_related("extension__organization__reseller", "callerid")
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise CallHold.DoesNotExist("not in scope")
        if found.callerid_id is not None:
            # The CallerID's row first, as every change to its holds.
            lock_callerid(found.callerid_id)
        locked = CallHold.objects.select_for_update().get(pk=pk)
        if locked.status != HoldStatus.OPEN:
            raise DomainError(HOLD_NOT_OPEN.format(status=locked.get_status_display().lower()))
        locked.status = HoldStatus.RELEASED
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at"])
        record(
            actor=actor,
            action="hold.release",
            obj=locked,
            before={"status": HoldStatus.OPEN.value, "reserved": found.reserved},
            after={
                "status": HoldStatus.RELEASED.value,
                "call_id": locked.call_id,
                "callerid": found.callerid.number if found.callerid else None,
                "extension": found.extension.number,
            },
            reseller=found.extension.organization.reseller,
        )
    return locked
