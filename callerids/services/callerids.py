"""Every write on authorized CallerIDs: add, edit, enable, disable, remove (SPEC §4, §5).

Each service owns one transaction, takes its row locks first, writes an audit event per
CallerID in it, and raises DomainError / LicenseExceeded / NotAllowed with a message a
user can act on (Http404 out of the actor's scope, PermissionDenied for read-only roles).

Services that can change a status lock License → Reseller → CallerIDs (id order), see
callerids.services.license. Bulk services take id lists: ids outside the actor's scope
are left out and change nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from callback.scope import get_extension
from callerids import scope
from callerids.models import (
    CREDIT_FIELDS,
    REMOVED_MESSAGE,
    AuthorizedCallerID,
    CallerIDStatus,
    SubmissionKey,
)
from callerids.pins import hash_pin
from callerids.services import credit_totals
from callerids.services.license import lock_counters, lock_for_status_change
from callerids.services.validation import (
    MAX_ROWS,
    NewCallerID,
    RowErrors,
    clean_number,
    clean_pin,
    clean_row,
    duplicate_message,
)
from credit import ledger
from credit.models import LedgerEntry, LedgerKind
from tenancy import scoping
from tenancy.audit import Actor, event_for, record, snapshot
from tenancy.models import AuditEvent
from tenancy.preferences import get_preferences
from values.errors import DomainError, LicenseExceeded, NotAllowed

ENABLED = CallerIDStatus.ENABLED
DISABLED = CallerIDStatus.DISABLED
REMOVED = CallerIDStatus.REMOVED
ZERO = credit_totals.ZERO

ADD_ACTION = "callerid.add"
AUDIT_FIELDS = ["number", "status", "status_reason", "pin_hash", "wrong_pin_count"]


@dataclass(frozen=True)
class AddResult:
    """What add_callerids did: the new CallerIDs (in row order), and whether this was a
    re-sent form whose first submission had already added them (at applied_at)."""

    callerids: list[AuthorizedCallerID]
    already_applied: bool
    applied_at: datetime


@dataclass(frozen=True)
class BulkResult:
    """Ids (in id order) that changed, that were already in the wanted state, and that
    were skipped because they were removed. Ids out of scope appear nowhere."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    skipped_removed: list[int] = field(default_factory=list)


def _reseller_of_extension(extension):
    return extension.organization.reseller


def _duplicates_on_extension(extension_id: int, numbers: Iterable[str], exclude_pk=None):
    qs = AuthorizedCallerID.objects.filter(extension_id=extension_id, number__in=list(numbers))
    qs = qs.exclude(status=REMOVED)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return {c.number: c for c in qs.order_by("pk")}


def _previous_add(key: uuid.UUID) -> AddResult | None:
    stored = SubmissionKey.objects.filter(pk=key).first()
    if stored is None:
        return None
    if stored.action != ADD_ACTION:
        raise DomainError("This form was already used for something else; open it again.")
    ids = stored.outcome.get("callerids", [])
    by_pk = AuthorizedCallerID.objects.in_bulk(ids)
    return AddResult(
        callerids=[by_pk[pk] for pk in ids if pk in by_pk],
        already_applied=True,
        applied_at=stored.created_at,
    )


def add_callerids(
    *,
    actor: Actor,
    extension,
    rows: Sequence[NewCallerID],
    one_time_key: uuid.UUID | str | None = None,
    max_rows: int = MAX_ROWS,
) -> AddResult:
    """Add 1 to `max_rows` CallerIDs to one callback extension, all or none (SPEC §5.1):
    10 for the add form (the default), up to API_MAX_ROWS for the provisioning API.

    extension: a CallbackExtension or its id (Http404 outside the actor's scope,
    PermissionDenied for read-only roles). Each row is normalized and checked
    (validation.clean_row); new CallerIDs are enabled, each with an `initial` ledger row
    (also for 0 or Unlimited) and an audit event.
    Raises RowErrors (row_errors: {row index: [messages]}, field_errors: {row index:
    {field: [messages]}}) for bad rows, duplicates inside the batch or against the
    extension's CallerIDs that are not removed; NotAllowed when a row asks for Unlimited
    and the actor may not grant it; LicenseExceeded ("Adding 3 would exceed the license
    by 2.") when the server or the reseller's share has no room.
    one_time_key: the form's key; a second call with the same key changes nothing and
    returns the first outcome with already_applied=True.
    """
    key = uuid.UUID(str(one_time_key)) if one_time_key else None
    if not rows:
        raise DomainError("Enter at least one callback number.")
    if len(rows) > max_rows:
        raise DomainError(f"Add at most {max_rows} CallerIDs at once.")
    try:
        return _add_callerids(actor=actor, extension=extension, rows=rows, key=key)
    except IntegrityError:
        # A concurrent submission of the same key committed first; or the unique number
        # constraint caught a race with an edit. Either way nothing of ours was saved.
        if key is not None:
            previous = _previous_add(key)
            if previous is not None:
                return previous
        raise DomainError(
            "Another change to this extension's CallerIDs happened at the same time; "
            "nothing was saved. Please try again."
        ) from None


def _add_callerids(*, actor, extension, rows, key) -> AddResult:
    extension = get_extension(actor, extension)
    preferences = get_preferences()
    cleaned, row_errors = [], {}
    for index, row in enumerate(rows):
        clean, errors = clean_row(
            row,
            default_country=preferences.default_country,
            decimals=preferences.decimals,
            currency=preferences.currency,
        )
        cleaned.append(clean)
        if errors:
            row_errors[index] = errors
    seen: dict[str, int] = {}
    for index, clean in enumerate(cleaned):
        if clean is None:
            continue
        if clean.number in seen:
            row_errors.setdefault(index, {}).setdefault("number", []).append(
                f"{clean.number} is also on row {seen[clean.number] + 1} of this form."
            )
        else:
            seen[clean.number] = index
    if any(
        c is not None and c.unlimited for c in cleaned
    ) and not scoping.actor_may_grant_unlimited(actor):
        raise NotAllowed(scoping.UNLIMITED_REFUSED)

    reseller = _reseller_of_extension(extension)
    with transaction.atomic():
        # License → Reseller first: the count and the share are read and raised together,
        # and concurrent adds of the same form or number wait here, one after the other.
        counters = lock_counters([reseller.pk])
        if key is not None:
            previous = _previous_add(key)
            if previous is not None:
                return previous
        existing = _duplicates_on_extension(extension.pk, seen)
        for number, index in seen.items():
            if number in existing:
                row_errors.setdefault(index, {}).setdefault("number", []).append(
                    duplicate_message(existing[number])
                )
        if row_errors:
            raise RowErrors(row_errors)
        counters.add(reseller.pk, len(cleaned))
        counters.check_room(verb="Adding")

        # Three multi-row INSERTs (CallerIDs, their initial ledger rows, their audit
        # events) rather than three per row: the API adds up to 1,000 at once, under the
        # license lock, which every other add waits for.
        created = []
        totals = credit_totals.TotalsChange()
        for clean in cleaned:
            salt, digest = hash_pin(clean.pin) if clean.pin else ("", "")
            created.append(
                AuthorizedCallerID(
                    extension=extension,
                    number=clean.number,
                    pin_salt=salt,
                    pin_hash=digest,
                    status=ENABLED,
                    unlimited=clean.unlimited,
                    available=clean.credit,
                    total=clean.credit,
                    created_by=actor.user,
                )
            )
        AuthorizedCallerID.objects.bulk_create(created)
        LedgerEntry.objects.bulk_create(
            ledger.entry_for(
                callerid=callerid,
                kind=LedgerKind.INITIAL,
                amount=clean.credit,
                balance_after=clean.credit,
                actor=actor,
                reseller_id=reseller.pk,
                order_number=clean.order_number,
            )
            for callerid, clean in zip(created, cleaned, strict=True)
        )
        AuditEvent.objects.bulk_create(
            event_for(
                actor=actor,
                action=ADD_ACTION,
                obj=callerid,
                after={
                    **snapshot(callerid, AUDIT_FIELDS + CREDIT_FIELDS),
                    "extension": extension.number,
                    "order_number": clean.order_number,
                },
                reseller=reseller,
            )
            for callerid, clean in zip(created, cleaned, strict=True)
        )
        for callerid in created:
            totals.moved(reseller.pk, (ZERO, 0), credit_totals.share_of(callerid))
        counters.save()
        totals.save()
        now = timezone.now()
        if key is not None:
            SubmissionKey.objects.create(
                key=key,
                action=ADD_ACTION,
                user=actor.user,
                outcome={"callerids": [c.pk for c in created]},
            )
    return AddResult(callerids=created, already_applied=False, applied_at=now)


def edit_callerid(
    *,
    actor: Actor,
    callerid,
    number: str | None = None,
    pin: str | None = None,
    remove_pin: bool = False,
    status: str | None = None,
) -> AuthorizedCallerID:
    """Edit one CallerID (SPEC §5.3); arguments left None are not changed.

    number: a raw callback number (normalized, unique among the extension's CallerIDs
    that are not removed); pin: a new PIN (4–10 digits); remove_pin: drop the PIN (setting
    or removing a PIN resets the wrong-PIN count); status: "enabled" or "disabled"
    (enabling needs license room and clears a PIN lock).
    Raises Http404 out of scope, PermissionDenied for read-only roles, DomainError
    ("This CallerID was removed." for removed ones, duplicates naming the existing entry,
    bad input), LicenseExceeded when enabling without room.
    """
    preferences = get_preferences()
    new_number = (
        clean_number(number, default_country=preferences.default_country)
        if number is not None
        else None
    )
    if pin is not None and remove_pin:
        raise DomainError("Set a new PIN or remove the PIN, not both.", field="pin")
    new_pin = clean_pin(pin) if pin is not None else ""
    if status is not None and status not in (ENABLED, DISABLED):
        raise DomainError("Choose Enabled or Disabled.", field="status")
    try:
        with transaction.atomic():
            counters = None
            if status is not None:
                # A status change moves the counters: License → Reseller → CallerID.
                counters, locked = lock_for_status_change(
                    ids=[scoping.pk_of(callerid)], scope=scope.scoped_callerids(actor)
                )
                if not locked:
                    raise Http404("Not found")
                scoping.require_actor_write(actor)
                target = locked[0]
                reseller = target.reseller
            else:
                # The row lock keeps two edits of the same CallerID apart.
                target = scope.locked_callerid(actor, callerid)
                reseller = target.extension.organization.reseller
            if target.status == REMOVED:
                raise DomainError(REMOVED_MESSAGE)
            before = snapshot(target, AUDIT_FIELDS)
            if new_number is not None and new_number != target.number:
                clash = _duplicates_on_extension(
                    target.extension_id, [new_number], exclude_pk=target.pk
                )
                if clash:
                    raise DomainError(duplicate_message(clash[new_number]), field="number")
                target.number = new_number
            if new_pin:
                target.pin_salt, target.pin_hash = hash_pin(new_pin)
                target.wrong_pin_count = 0
            elif remove_pin:
                target.pin_salt, target.pin_hash = "", ""
                target.wrong_pin_count = 0
            if status is not None and status != target.status:
                counters.status_changed(target.reseller_id, target.status, status)
                try:
                    counters.check_room(verb="Enabling")
                except LicenseExceeded as exc:  # the status is what was refused
                    raise LicenseExceeded(exc.messages, field="status") from None
                target.status = status
                target.status_reason = ""
                if status == ENABLED:
                    target.wrong_pin_count = 0
            after = snapshot(target, AUDIT_FIELDS)
            if after == before:
                return target
            target.save(update_fields=AUDIT_FIELDS[:] + ["pin_salt"])
            if counters is not None:
                counters.save()
            record(
                actor=actor,
                action="callerid.update",
                obj=target,
                before=before,
                after=after,
                reseller=reseller,
            )
    except IntegrityError:
        raise DomainError(
            f"{new_number} was added to this extension at the same time; nothing was saved.",
            field="number",
        ) from None
    return target


def _set_status_many(*, actor: Actor, ids: Iterable, status: str, verb: str) -> BulkResult:
    scoping.require_actor_write(actor)
    ids = scoping.clean_ids(ids)
    changed, unchanged, skipped = [], [], []
    if not ids:
        return BulkResult()
    with transaction.atomic():
        counters, locked = lock_for_status_change(ids=ids, scope=scope.scoped_callerids(actor))
        for target in locked:
            if target.status == REMOVED:
                skipped.append(target.pk)
                continue
            if target.status == status:
                unchanged.append(target.pk)
                continue
            counters.status_changed(target.reseller_id, target.status, status)
            changed.append(target)
        # All or none: one check for the whole selection before anything is written.
        counters.check_room(verb=verb)
        for target in changed:
            before = snapshot(target, AUDIT_FIELDS)
            target.status = status
            target.status_reason = ""
            if status == ENABLED:
                target.wrong_pin_count = 0  # re-enabling clears a PIN lock
            target.save(update_fields=["status", "status_reason", "wrong_pin_count"])
            record(
                actor=actor,
                action=f"callerid.{'enable' if status == ENABLED else 'disable'}",
                obj=target,
                before=before,
                after=snapshot(target, AUDIT_FIELDS),
                reseller=target.reseller,
            )
        counters.save()
    return BulkResult(changed=[c.pk for c in changed], unchanged=unchanged, skipped_removed=skipped)


def enable_callerids(*, actor: Actor, ids: Iterable) -> BulkResult:
    """Enable the selected CallerIDs, all or none (SPEC §4).

    Enabling clears a PIN lock (reason and wrong-PIN count). Removed ones are skipped,
    already enabled ones unchanged, ids out of scope ignored. Raises LicenseExceeded
    ("Enabling 50 would exceed the license by 40.") and then changes nothing;
    PermissionDenied for read-only roles.
    """
    return _set_status_many(actor=actor, ids=ids, status=ENABLED, verb="Enabling")


def disable_callerids(*, actor: Actor, ids: Iterable) -> BulkResult:
    """Disable the selected CallerIDs (they leave the license count). Removed ones are
    skipped, ids out of scope ignored; PermissionDenied for read-only roles."""
    return _set_status_many(actor=actor, ids=ids, status=DISABLED, verb="Disabling")


def _single(actor: Actor, callerid, bulk) -> AuthorizedCallerID:
    pk = scoping.pk_of(callerid)
    if not scope.scoped_callerids(actor).filter(pk=pk).exists():
        raise Http404("Not found")
    result = bulk(actor=actor, ids=[pk])
    if result.skipped_removed:
        raise DomainError(REMOVED_MESSAGE)
    return AuthorizedCallerID.objects.get(pk=pk)


def enable_callerid(*, actor: Actor, callerid) -> AuthorizedCallerID:
    """Enable one CallerID (the S toggle; also re-enables after a PIN lock).

    Raises Http404 out of scope, PermissionDenied for read-only roles, DomainError for a
    removed one, LicenseExceeded ("Enabling 1 would exceed the license by 1.").
    """
    return _single(actor, callerid, enable_callerids)


def disable_callerid(*, actor: Actor, callerid) -> AuthorizedCallerID:
    """Disable one CallerID. Raises Http404 / PermissionDenied / DomainError (removed)."""
    return _single(actor, callerid, disable_callerids)


def remove_callerids(*, actor: Actor, ids: Iterable) -> BulkResult:
    """Remove the selected CallerIDs (soft, SPEC §4): status removed, removed_at set, out
    of the license count if they were enabled. Each gets an audit event recording its
    credit at that moment. Already removed ones are reported in skipped_removed; ids out
    of scope are ignored. The number may be added again later as a new entry.
    """
    scoping.require_actor_write(actor)
    ids = scoping.clean_ids(ids)
    changed, skipped = [], []
    if not ids:
        return BulkResult()
    with transaction.atomic():
        counters, locked = lock_for_status_change(ids=ids, scope=scope.scoped_callerids(actor))
        totals = credit_totals.TotalsChange()
        now = timezone.now()
        for target in locked:
            if target.status == REMOVED:
                skipped.append(target.pk)
                continue
            before = snapshot(target, AUDIT_FIELDS + CREDIT_FIELDS)
            totals.moved(target.reseller_id, credit_totals.share_of(target), (ZERO, 0))
            counters.status_changed(target.reseller_id, target.status, REMOVED)
            target.status = REMOVED
            target.status_reason = ""
            target.removed_at = now
            target.save(update_fields=["status", "status_reason", "removed_at"])
            record(
                actor=actor,
                action="callerid.remove",
                obj=target,
                before=before,
                after={**snapshot(target, AUDIT_FIELDS + CREDIT_FIELDS), "removed_at": now},
                reseller=target.reseller,
            )
            changed.append(target.pk)
        counters.save()
        totals.save()
    return BulkResult(changed=changed, skipped_removed=skipped)


def remove_callerid(*, actor: Actor, callerid) -> AuthorizedCallerID:
    """Remove one CallerID (soft). Raises Http404 out of scope, PermissionDenied for
    read-only roles, DomainError when it was already removed."""
    return _single(actor, callerid, remove_callerids)
