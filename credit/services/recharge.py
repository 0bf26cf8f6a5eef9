"""The Add credit form's service (SPEC §6): recharge, adjustment, set Unlimited, set limited.

One function implements the whole table of SPEC §6, so the credit page, and anything else
that grants or removes credit, follows the same rules:

| state     | entered                   | ledger row     | result                          |
|-----------|---------------------------|----------------|---------------------------------|
| limited   | amount > 0                | recharge       | available += a, total += a      |
| limited   | amount < 0, |a| ≤ avail.  | adjustment     | available += a, total += a      |
| limited   | Unlimited (if allowed)    | set_unlimited  | unlimited                       |
| unlimited | amount < 0                | set_limited    | available 0, total 0            |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from callerids import scope
from callerids.models import CREDIT_FIELDS, REMOVED_MESSAGE, AuthorizedCallerID, CallerIDStatus
from callerids.selectors import callerid_data
from callerids.services import credit_totals
from callerids.services.validation import NOT_BOTH, clean_amount, clean_order_number
from credit import ledger
from credit.models import CallHold, HoldStatus, LedgerEntry, LedgerKind
from credit.selectors_holds import open_holds_of
from credit.services import holds
from notifications import services as notifications
from tenancy import scoping
from tenancy.audit import Actor, record, snapshot
from tenancy.preferences import get_preferences
from values.errors import DomainError, NotAllowed
from values.money import MAX_BALANCE, format_money, quantize4

# The "0 or empty" refusal names the Unlimited box only to who has it (SPEC §2).
EMPTY = "Enter an amount other than 0."
EMPTY_OR_UNLIMITED = "Enter an amount other than 0, or tick Unlimited."
ALREADY_UNLIMITED = "Already unlimited; enter a negative amount to set a limit."


@dataclass(frozen=True)
class CreditResult:
    """The ledger row written (or, for a re-sent form, the one written the first time)
    and the CallerID after it. already_applied: this key had been used; nothing changed;
    the page says "Already applied at <entry.created_at>"."""

    entry: LedgerEntry
    callerid: AuthorizedCallerID
    already_applied: bool

    @property
    def applied_at(self) -> datetime:
        return self.entry.created_at


def _order_refusal(entry: LedgerEntry) -> str:
    when = timezone.localtime(entry.created_at).strftime("%Y-%m-%d")
    return f"Order {entry.order_number} was already applied on {when}."


def _previous(key: uuid.UUID | None, callerid_pk: int) -> CreditResult | None:
    if key is None:
        return None
    entry = LedgerEntry.objects.filter(one_time_key=key).first()
    if entry is None:
        return None
    if entry.callerid_id != callerid_pk:
        raise DomainError("This form was already used for another CallerID; open it again.")
    return CreditResult(
        entry=entry,
        callerid=AuthorizedCallerID.objects.get(pk=callerid_pk),
        already_applied=True,
    )


def add_credit(
    *,
    actor: Actor,
    callerid,
    amount: Decimal | None = None,
    unlimited: bool = False,
    order_number: str = "",
    one_time_key: uuid.UUID | str | None = None,
) -> CreditResult:
    """Apply one Add credit submission to a CallerID (SPEC §6), in one transaction.

    callerid: an AuthorizedCallerID or its id (Http404 outside the actor's scope,
    PermissionDenied for read-only roles). amount: a Decimal, positive or negative, at
    most the shown decimals and at most 1,000,000 either way; or unlimited=True.
    order_number: optional, trimmed, ≤ 64 characters, unique per CallerID.
    one_time_key: the form's key; a second call with it changes nothing and returns the
    first outcome with already_applied=True.
    amount may also be text as typed ("10.50"; validation.clean_amount parses it).
    Disabled CallerIDs may be recharged. Raises DomainError (its `field` names the input:
    amount, order_number) with SPEC §6's messages, amounts shown as pages show money
    ("Enter an amount or tick Unlimited, not both.", "At most 12.50 EUR can be removed.",
    "Already unlimited; enter a negative amount to set a limit.", "This CallerID was
    removed.", "Order X was already applied on <date>.", ...), NotAllowed when granting
    Unlimited without the right.
    Writes one ledger row, the new absolute balance and an audit event.
    """
    key = uuid.UUID(str(one_time_key)) if one_time_key else None
    preferences = get_preferences()
    if unlimited and amount not in (None, ""):
        raise DomainError(NOT_BOTH, field="amount")
    if not unlimited and amount not in (None, ""):
        amount = clean_amount(
            amount,
            decimals=preferences.decimals,
            currency=preferences.currency,
            allow_negative=True,
        )
    if not unlimited and (amount in (None, "") or amount == 0):
        amount = None  # refused under the lock, in words that fit the CallerID and the user
    order_number = clean_order_number(order_number)
    pk = scoping.pk_of(callerid)
    try:
        return _add_credit(
            actor=actor,
            pk=pk,
            amount=amount,
            unlimited=unlimited,
            order_number=order_number,
            key=key,
            preferences=preferences,
        )
    except IntegrityError:
        # Only a race on a unique key gets here: the same one-time key committed by a
        # concurrent submission (for another CallerID: its own lock did not stop it).
        previous = _previous(key, pk)
        if previous is not None:
            return previous
        raise DomainError("This form was submitted twice at once; reload the page.") from None


def _empty_refusal(actor: Actor, callerid: AuthorizedCallerID) -> str:
    """The "0 or empty" refusal, naming only what this user can do for this CallerID."""
    if callerid.unlimited:
        return ALREADY_UNLIMITED
    return EMPTY_OR_UNLIMITED if scoping.actor_may_grant_unlimited(actor) else EMPTY


def _limit(amount: Decimal, preferences) -> str:
    return format_money(amount, preferences.decimals, preferences.currency, bound=True)


def _add_credit(*, actor, pk, amount, unlimited, order_number, key, preferences) -> CreditResult:
    with transaction.atomic():
        # The CallerID's row lock first: every change to its balance (this form, calls)
        # waits here, so the balance read below is the one we overwrite.
        callerid = scope.locked_callerid(actor, pk)
        previous = _previous(key, pk)
        if previous is not None:
            return previous
        if callerid.status == CallerIDStatus.REMOVED:
            raise DomainError(REMOVED_MESSAGE)
        if not unlimited and amount is None:
            raise DomainError(_empty_refusal(actor, callerid), field="amount")
        # Holds past their expiry are released whenever the CallerID is locked (SPEC §11).
        holds.expire_holds_of(callerid.pk)
        if order_number:
            used = LedgerEntry.objects.filter(callerid=callerid, order_number=order_number)
            used = used.order_by("id").first()
            if used is not None:
                raise DomainError(_order_refusal(used), field="order_number")
        before = snapshot(callerid, CREDIT_FIELDS)
        reseller_id = callerid.extension.organization.reseller_id
        share_before = credit_totals.share_of(callerid)

        if callerid.unlimited:
            if unlimited or amount > 0:
                raise DomainError(ALREADY_UNLIMITED, field="amount")
            kind, balance, total = LedgerKind.SET_LIMITED, Decimal("0"), Decimal("0")
            callerid.unlimited = False
        elif unlimited:
            if not scoping.actor_may_grant_unlimited(actor):
                raise NotAllowed(scoping.UNLIMITED_REFUSED, field="unlimited")
            kind, balance, total = LedgerKind.SET_UNLIMITED, None, None
            callerid.unlimited = True
            # Unlimited holds nothing: calls in progress keep running but reserve no
            # credit, so setting a limit again later starts from a clean balance.
            CallHold.objects.filter(callerid=callerid, status=HoldStatus.OPEN).update(
                reserved=Decimal("0")
            )
        else:
            balance = callerid.available + amount
            # Credit held by calls in progress stays: their reports will charge it.
            held = open_holds_of(callerid.pk).total if amount < 0 else Decimal("0")
            if held and balance < held:
                removable = _limit(max(callerid.available - held, 0), preferences)
                held_text = format_money(held, preferences.decimals, preferences.currency)
                raise DomainError(
                    f"At most {removable} can be removed; {held_text} is held by "
                    "calls in progress.",
                    field="amount",
                )
            if balance < 0:
                limit = _limit(callerid.available, preferences)
                raise DomainError(f"At most {limit} can be removed.", field="amount")
            if balance > MAX_BALANCE:
                limit = _limit(MAX_BALANCE, preferences)
                raise DomainError(f"A balance holds at most {limit}.", field="amount")
            total = callerid.total + amount
            if total > MAX_BALANCE:
                limit = _limit(MAX_BALANCE, preferences)
                raise DomainError(f"The total credit holds at most {limit}.", field="amount")
            kind = LedgerKind.RECHARGE if amount > 0 else LedgerKind.ADJUSTMENT

        entry = ledger.append(
            callerid=callerid,
            kind=kind,
            amount=None if unlimited else amount,
            balance_after=balance,
            actor=actor,
            reseller_id=reseller_id,
            order_number=order_number,
            one_time_key=key,
        )
        callerid.available = quantize4(balance) if balance is not None else None
        callerid.total = quantize4(total) if total is not None else None
        callerid.save(update_fields=CREDIT_FIELDS)
        # Outbox rows in the same transaction as the balance (SPEC §12).
        notifications.credit_changed(
            callerid_id=callerid.pk,
            reseller_id=callerid.extension.organization.reseller_id,
            before=None if before["unlimited"] else before["available"],
            after=callerid.available,
            recharge={
                "kind": str(kind),
                "amount": None if entry.amount is None else str(entry.amount),
                "order_number": order_number,
            },
            describe=callerid_data,
        )
        record(
            actor=actor,
            action=f"credit.{kind}",
            obj=callerid,
            before=before,
            after={
                **snapshot(callerid, CREDIT_FIELDS),
                "amount": entry.amount,
                "order_number": order_number,
            },
            reseller=callerid.extension.organization.reseller,
        )
        # The reseller's totals row last: every transaction takes it after its other locks.
        totals = credit_totals.TotalsChange()
        totals.moved(reseller_id, share_before, credit_totals.share_of(callerid))
        totals.save()
    return CreditResult(entry=entry, callerid=callerid, already_applied=False)
