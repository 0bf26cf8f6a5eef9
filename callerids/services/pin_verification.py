"""The PBX checks a PIN the caller typed (SPEC §9, `POST /api/v1/callback/verify-pin`).

The lock rule: wrong PINs in a row are counted on the CallerID under its row lock; a right
PIN resets the count; the wrong PIN that reaches the extension's limit disables the CallerID
with the reason "locked" (and keeps that limit, for the pages to name), writes an audit
event and gives its place back to the license (License.active_callerids and its
Reseller.active_callerids go down in the same transaction). A disabled or locked CallerID
answers "locked" to every PIN and its count does not move; only a user re-enabling it
resets it.

Lock order in this project is License row -> Reseller row -> CallerID rows (enabling takes
them so). The common path needs only the CallerID's row; the rare wrong PIN that locks
needs all three, so it is redone in a fresh transaction that takes them in that order
(callerids.services.license.lock_for_status_change, the same counters every status change
uses), never the license while holding the CallerID.

Under an inactive extension, organization or reseller the API refuses everything (SPEC §3):
verify-pin answers `locked` and the count does not move.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from callerids.models import LOCKED_REASON, AuthorizedCallerID, CallerIDStatus
from callerids.pins import check_pin
from callerids.scope import callerids_for_token
from callerids.selectors import callerid_data, lock_callerid
from callerids.services.license import lock_for_status_change
from notifications import services as notifications
from notifications.models import EventType
from tenancy.audit import Actor, record
from tenancy.models import ApiToken

OK = "ok"
PIN_INVALID = "pin_invalid"
LOCKED = "locked"
# wrong_pin_count is a small integer; with no limit (0) guessing never stops, the count must.
_COUNT_CEILING = 32767


@dataclass(frozen=True)
class PinResult:
    result: str  # ok / pin_invalid / locked
    attempts_left: int | None = None  # with pin_invalid: wrong PINs left; None = no limit


@dataclass(frozen=True)
class _Target:
    callerid_id: int
    limit: int
    owners_active: bool  # the extension, its organization and its reseller


def _target(token: ApiToken, callerid_id: int) -> _Target:
    row = (
        callerids_for_token(token)
        .exclude(status=CallerIDStatus.REMOVED)
        .filter(pk=callerid_id)
        .values_list(
            "pk",
            "extension__pin_lock_limit",
            "extension__active",
            "extension__organization__active",
            "extension__organization__reseller__active",
        )
        .first()
    )
    if row is None:
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    pk, limit, *active = row
    return _Target(callerid_id=pk, limit=limit, owners_active=all(active))


def _judge(callerid: AuthorizedCallerID, pin: str, limit: int) -> tuple[PinResult, bool]:
    """What this PIN means for this (locked) row, and whether it reaches the lock limit.

    Changes the row in memory (the count) but does not save it.
    """
    if callerid.status == CallerIDStatus.REMOVED:
        raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
    if callerid.status != CallerIDStatus.ENABLED:
        return PinResult(LOCKED), False
    if not callerid.has_pin:
        return PinResult(OK), False
    if check_pin(pin, callerid.pin_salt, callerid.pin_hash):
        callerid.wrong_pin_count = 0
        return PinResult(OK), False
    callerid.wrong_pin_count = min(callerid.wrong_pin_count + 1, _COUNT_CEILING)
    if limit == 0:
        return PinResult(PIN_INVALID, None), False
    if callerid.wrong_pin_count >= limit:
        return PinResult(LOCKED), True
    return PinResult(PIN_INVALID, limit - callerid.wrong_pin_count), False


def verify_pin(*, token: ApiToken, callerid_id: int, pin: str, actor: Actor) -> PinResult:
    """Check `pin` for the CallerID `callerid_id` as seen by `token`.

    Raises AuthorizedCallerID.DoesNotExist when the CallerID is removed or outside the
    token's scope. Changes the wrong-PIN count; at the limit disables the CallerID
    (status_reason "locked"), lowers the license and reseller counters and writes a
    `callerid.lock` audit event, all in one transaction.
    """
    target = _target(token, callerid_id)
    if not target.owners_active:
        return PinResult(LOCKED)
    with transaction.atomic():
        # The CallerID's row lock counts simultaneous wrong PINs one at a time.
        callerid = lock_callerid(target.callerid_id)
        before = callerid.wrong_pin_count
        outcome, reaches_limit = _judge(callerid, pin, target.limit)
        if not reaches_limit:
            if callerid.wrong_pin_count != before:
                callerid.save(update_fields=["wrong_pin_count"])
            return outcome
        # Nothing written yet: leave this transaction and lock in the project's order.
    return _verify_and_lock(token, target, pin, actor)


def _verify_and_lock(token: ApiToken, target: _Target, pin: str, actor: Actor) -> PinResult:
    with transaction.atomic():
        # License -> Reseller -> CallerID, the order every status change uses, so this
        # cannot deadlock with an enable running at the same moment.
        counters, locked = lock_for_status_change(
            ids=[target.callerid_id], scope=callerids_for_token(token)
        )
        if not locked:
            raise AuthorizedCallerID.DoesNotExist("unknown CallerID")
        callerid = locked[0]
        # Re-judged under the locks: another request may have locked it or reset the count.
        before = callerid.wrong_pin_count
        outcome, reaches_limit = _judge(callerid, pin, target.limit)
        if not reaches_limit:
            if callerid.wrong_pin_count != before:
                callerid.save(update_fields=["wrong_pin_count"])
            return outcome
        counters.status_changed(callerid.reseller_id, callerid.status, CallerIDStatus.DISABLED)
        callerid.status = CallerIDStatus.DISABLED
        callerid.status_reason = LOCKED_REASON
        # The limit this lock happened at: the extension's setting may change later.
        callerid.locked_after_pins = target.limit
        callerid.save(
            update_fields=["wrong_pin_count", "status", "status_reason", "locked_after_pins"]
        )
        counters.save()
        record(
            actor=actor,
            action="callerid.lock",
            obj=callerid,
            before={"status": CallerIDStatus.ENABLED, "wrong_pin_count": before},
            after={
                "status": CallerIDStatus.DISABLED,
                "status_reason": LOCKED_REASON,
                "wrong_pin_count": callerid.wrong_pin_count,
                "locked_after_pins": target.limit,
            },
            reseller=callerid.reseller,
        )
        # The outbox row commits with the lock, or not at all (SPEC §12).
        notifications.emit(
            type=EventType.CALLERID_LOCKED,
            reseller_id=callerid.reseller_id,
            data={
                **callerid_data(
                    callerid.pk, balance=None if callerid.unlimited else callerid.available
                ),
                "wrong_pin_count": callerid.wrong_pin_count,
            },
        )
        return outcome
