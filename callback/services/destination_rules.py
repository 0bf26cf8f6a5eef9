"""Writes to the destination rules (SPEC §11): the server's set (admins) and each
reseller's (admins, and that reseller's users). Audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

from callback.models import DestinationRules
from tenancy import scoping
from tenancy.audit import Actor, record, snapshot
from tenancy.models import Reseller
from values.errors import NotAllowed

AUDITED_FIELDS = ["blocked_prefixes", "allowed_countries", "refuse_premium", "max_rate_per_minute"]


@dataclass(frozen=True)
class RulesSetup:
    """One set of rules as the form validated and normalized it."""

    blocked_prefixes: list[str] = field(default_factory=list)
    allowed_countries: list[str] = field(default_factory=list)
    refuse_premium: bool = True
    max_rate_per_minute: Decimal | None = None


def may_edit(user, reseller: Reseller | None) -> bool:
    """Admins edit every set; a reseller's users (not its staff) edit their reseller's."""
    if scoping.is_admin(user):
        return True
    if reseller is None or not scoping.can_write(user):
        return False
    return scoping.reseller_id_of(user) == reseller.pk


def rules_of(reseller: Reseller | None) -> DestinationRules:
    """The stored set, or an unsaved one with the defaults (nothing saved yet)."""
    found = DestinationRules.objects.filter(reseller=reseller).first()
    return found if found is not None else DestinationRules(reseller=reseller)


def _locked_row(reseller: Reseller | None) -> DestinationRules:
    """The set's row, created on first use, locked until the transaction ends."""
    row = DestinationRules.objects.select_for_update().filter(reseller=reseller).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():  # a savepoint: a concurrent first save wins the insert
            DestinationRules.objects.create(reseller=reseller)
    except IntegrityError:
        pass
    return DestinationRules.objects.select_for_update().get(reseller=reseller)


def update_destination_rules(
    *, actor: Actor, reseller: Reseller | None, setup: RulesSetup
) -> DestinationRules:
    """Replace the server's rules (reseller None) or a reseller's with `setup`.

    Requires may_edit (else NotAllowed). Writes a `destination_rules.update` audit event
    with the values before and after when something changed. Calls started afterwards
    follow the new rules (calls/start reads them on every start).
    """
    if not may_edit(actor.user, reseller):
        raise NotAllowed("You may not change these destination rules.")
    with transaction.atomic():
        # Lock first so the audit's "before" is what this change replaced.
        row = _locked_row(reseller)
        before = snapshot(row, AUDITED_FIELDS)
        for name, value in asdict(setup).items():
            setattr(row, name, value)
        row.full_clean(validate_unique=False, validate_constraints=False)
        after = snapshot(row, AUDITED_FIELDS)
        if before != after:
            row.save()
            record(
                actor=actor,
                action="destination_rules.update",
                obj=row,
                before=before,
                after=after,
                reseller=reseller,
                object_repr=f"Destination rules of {reseller.name if reseller else 'the server'}",
            )
    return row
