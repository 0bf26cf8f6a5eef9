"""Writes to callback extensions (SPEC §3): create, update, (de)activate, delete.

Every function owns its transaction, locks the extension row first, re-checks the rules the
form already checked (a service is the last word, whatever called it) and writes one audit
event with the values before and after.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

from callback.models import CallbackExtension, OutboundCallerIDMode, ReturnMode
from callback.scope import get_extension_for_user
from tenancy import scoping
from tenancy.audit import Actor, record, snapshot
from tenancy.models import Organization
from values.errors import DomainError, NotAllowed

# What the audit log keeps of an extension: every setup field.
AUDITED_FIELDS = [
    "organization",
    "number",
    "name",
    "active",
    "trigger_after_seconds",
    "return_mode",
    "fixed_number",
    "disconnect_sound",
    "min_credit",
    "pin_lock_limit",
    "dial_timeout_seconds",
    "outbound_callerid_mode",
    "outbound_callerid",
    "max_call_duration_seconds",
    "max_calls_per_callerid",
    "max_calls",
    "daily_limit",
]

CALLER_MODE_ADMIN_ONLY = (
    "Only administrators may choose “to the caller callerID”: it calls back any caller at the "
    "operator's cost. Choose another mode."
)


@dataclass(frozen=True)
class ExtensionSetup:
    """The setup of an extension as the form validated and normalized it."""

    number: str
    name: str = ""
    active: bool = True
    trigger_after_seconds: int = 5
    return_mode: str = ReturnMode.AUTHORIZED
    fixed_number: str = ""
    disconnect_sound: str = ""
    min_credit: Decimal = field(default_factory=lambda: Decimal("0"))
    pin_lock_limit: int = 5
    dial_timeout_seconds: int = 10
    outbound_callerid_mode: str = OutboundCallerIDMode.SERVER
    outbound_callerid: str = ""
    max_call_duration_seconds: int = 3600
    max_calls_per_callerid: int | None = 1
    max_calls: int | None = None
    daily_limit: Decimal | None = None


def _check_actor(actor: Actor, organization: Organization, setup: ExtensionSetup) -> None:
    """As the CallerID services: 403 for read-only roles, 404 for an organization the actor
    does not see; NotAllowed for a setup the actor's role may not choose."""
    user = actor.user
    scoping.get_organization_for_user(user, organization.pk, write=True)
    if setup.return_mode == ReturnMode.CALLER and not scoping.is_admin(user):
        raise NotAllowed({"return_mode": CALLER_MODE_ADMIN_ONLY})


def _apply(extension: CallbackExtension, organization: Organization, setup: ExtensionSetup):
    values = asdict(setup)
    # A number that belongs to another mode is never kept: it would surface again if the
    # mode were switched back, without anyone having typed it for that purpose.
    if values["return_mode"] != ReturnMode.FIXED:
        values["fixed_number"] = ""
    elif not values["fixed_number"]:
        raise DomainError({"fixed_number": "Enter the number where calls should be returned."})
    if values["outbound_callerid_mode"] != OutboundCallerIDMode.USER:
        values["outbound_callerid"] = ""
    elif not values["outbound_callerid"]:
        raise DomainError({"outbound_callerid": "Enter the CallerID number for public calls."})
    extension.organization = organization
    for name, value in values.items():
        setattr(extension, name, value)
    # Field validators (ranges, the number format) hold whatever called the service.
    extension.full_clean(validate_unique=False)


def _save(extension: CallbackExtension) -> None:
    try:
        # A savepoint, so a duplicate number leaves the service's transaction usable.
        with transaction.atomic():
            extension.save()
    except IntegrityError:
        if (
            CallbackExtension.objects.filter(number=extension.number)
            .exclude(pk=extension.pk)
            .exists()
        ):
            raise DomainError({"number": duplicate_number_message(extension.number)}) from None
        raise


def duplicate_number_message(number: str) -> str:
    return f"Extension number {number} is already used on this server; choose another."


def create_extension(
    *, actor: Actor, organization: Organization, setup: ExtensionSetup
) -> CallbackExtension:
    """Create an extension in `organization` with `setup`.

    Requires a writing role (else PermissionDenied) with the organization in scope (else
    Http404, as the CallerID services answer for what the actor does not see); only admins
    may use the "to the caller callerID" mode. Raises NotAllowed or DomainError (dict keyed
    by field) when a rule is broken, including a number already used on the server. Writes one
    `extension.create` audit event.
    """
    with transaction.atomic():
        _check_actor(actor, organization, setup)
        extension = CallbackExtension()
        _apply(extension, organization, setup)
        _save(extension)
        record(
            actor=actor,
            action="extension.create",
            obj=extension,
            after=snapshot(extension, AUDITED_FIELDS),
            reseller=organization.reseller,
        )
    return extension


def update_extension(
    *,
    actor: Actor,
    extension: CallbackExtension,
    organization: Organization,
    setup: ExtensionSetup,
) -> CallbackExtension:
    """Replace the setup of `extension` (which may move to another organization in scope).

    Same rules as create_extension. An extension that ever had a CallerID or a call stays
    with its reseller: its CallerIDs count against that reseller's share, and its calls
    are that reseller's data. Writes one
    `extension.update` audit event when something changed. Returns the saved extension.
    """
    with transaction.atomic():
        # Lock the row first so the "before" of the audit event is what this edit replaced,
        # not a value a concurrent edit has just overwritten.
        locked = CallbackExtension.objects.select_for_update().get(pk=extension.pk)
        locked.organization = Organization.objects.select_related("reseller").get(
            pk=locked.organization_id
        )
        get_extension_for_user(actor.user, locked.pk, write=True)
        _check_actor(actor, organization, setup)
        # Its CallerIDs count against its reseller's share, and its calls (callers'
        # numbers, destinations, costs) are that reseller's data: neither may follow the
        # extension to another reseller.
        if organization.reseller_id != locked.organization.reseller_id and (
            locked.callerids.exists() or locked.calls.exists()
        ):
            raise DomainError(
                {
                    "organization": "This extension has CallerIDs or calls of its reseller: "
                    "it can only move to an organization of the same reseller."
                }
            )
        before = snapshot(locked, AUDITED_FIELDS)
        _apply(locked, organization, setup)
        after = snapshot(locked, AUDITED_FIELDS)
        if before != after:
            _save(locked)
            record(
                actor=actor,
                action="extension.update",
                obj=locked,
                before=before,
                after=after,
                reseller=organization.reseller,
            )
    return locked


def _set_active(*, actor: Actor, extension: CallbackExtension, active: bool) -> CallbackExtension:
    with transaction.atomic():
        # Lock first: two people toggling at once must give one event per real change.
        locked = (
            CallbackExtension.objects.select_for_update()
            .select_related("organization__reseller")
            .get(pk=extension.pk)
        )
        get_extension_for_user(actor.user, locked.pk, write=True)
        if locked.active != active:
            locked.active = active
            locked.save(update_fields=["active"])
            record(
                actor=actor,
                action="extension.activate" if active else "extension.deactivate",
                obj=locked,
                before={"active": not active},
                after={"active": active},
                reseller=locked.organization.reseller,
            )
    return locked


def deactivate_extension(*, actor: Actor, extension: CallbackExtension) -> CallbackExtension:
    """Deactivate: the PBX API then refuses its callers. Idempotent; audited when it changes."""
    return _set_active(actor=actor, extension=extension, active=False)


def activate_extension(*, actor: Actor, extension: CallbackExtension) -> CallbackExtension:
    """Activate again. Idempotent; audited when it changes."""
    return _set_active(actor=actor, extension=extension, active=True)


def deletion_blockers(extension: CallbackExtension) -> list[str]:
    """Why the extension cannot be deleted (empty when it can): it had CallerIDs or calls.

    Asked through the rows' relations to the extension (callerids, calls, holds): callback
    sits below the apps that own those rows."""
    reasons = []
    if extension.callerids.exists():
        reasons.append("it has had authorized CallerIDs")
    if extension.calls.exists() or extension.holds.exists():
        reasons.append("it has had calls")
    return reasons


def delete_extension(*, actor: Actor, extension: CallbackExtension) -> None:
    """Delete an extension that never had a CallerID (any status) or a call.

    Raises DomainError naming the reason otherwise (deactivate it instead). Writes one
    `extension.delete` audit event with the values it had.
    """
    with transaction.atomic():
        # Lock first, so no CallerID or call can be added between the check and the delete:
        # inserting a row that points at this one waits for our lock (PostgreSQL's key-share
        # lock on the referenced row conflicts with FOR UPDATE).
        locked = (
            CallbackExtension.objects.select_for_update()
            .select_related("organization__reseller")
            .get(pk=extension.pk)
        )
        get_extension_for_user(actor.user, locked.pk, write=True)
        reasons = deletion_blockers(locked)
        if reasons:
            raise DomainError(
                f"Extension {locked.number} cannot be deleted because "
                f"{' and '.join(reasons)}; deactivate it instead."
            )
        before = snapshot(locked, AUDITED_FIELDS)
        record(
            actor=actor,
            action="extension.delete",
            obj=locked,
            before=before,
            reseller=locked.organization.reseller,
        )
        locked.delete()
