"""Checks on what a user typed for a CallerID, shared by the add, edit and import services.

Each `clean_*` returns the normalized value or raises DomainError with a message a user
can act on, its `field` naming the input (number, pin, amount, order_number) so the API can
put it next to that field. `RowErrors` carries one list of messages per row, so a form can show each
error next to its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from callerids.models import AuthorizedCallerID
from callerids.pins import is_valid_pin
from values.errors import DomainError
from values.money import ORDER_NUMBER_MAX, check_amount, parse_amount
from values.phone import InvalidNumber, normalize_number

MAX_ROWS = 10  # the add form's rows
API_MAX_ROWS = 1000  # rows of one provisioning API request (SPEC §13)
NOT_BOTH = "Enter an amount or tick Unlimited, not both."


class RowErrors(DomainError):
    """Some rows are bad; nothing was saved. `field_errors` maps a row index (0-based) to
    {field: [messages]} (fields: number, pin, credit, order_number); `row_errors` maps it
    to the same messages in one list; `str()`/`messages` give one summary line."""

    def __init__(self, field_errors: dict[int, dict[str, list[str]]]):
        self.field_errors = {
            index: {name: list(msgs) for name, msgs in fields.items()}
            for index, fields in sorted(field_errors.items())
        }
        self.row_errors = {
            index: [msg for msgs in fields.values() for msg in msgs]
            for index, fields in self.field_errors.items()
        }
        count = len(self.row_errors)
        super().__init__(
            f"Nothing was saved: {count} row{'s' if count != 1 else ''} "
            f"{'have' if count != 1 else 'has'} errors."
        )


@dataclass(frozen=True)
class NewCallerID:
    """One row of the add form, as typed.

    number: the raw callback number (normalized by the service, SPEC §5.4);
    pin: "" for none, else 4 to 10 digits;
    credit: the initial credit, 0 to 1,000,000 (None with unlimited=False means 0);
    unlimited: Unlimited initial credit (only for actors who may grant it);
    order_number: optional, trimmed, at most 64 characters.
    """

    number: str
    pin: str = ""
    credit: Decimal | None = None
    unlimited: bool = False
    order_number: str = ""


@dataclass(frozen=True)
class CleanRow:
    number: str
    pin: str
    credit: Decimal | None  # None exactly when unlimited
    unlimited: bool
    order_number: str


def clean_number(raw: str | None, *, default_country: str | None) -> str:
    try:
        return normalize_number(raw, default_country or None)
    except InvalidNumber as exc:
        raise DomainError(str(exc), field="number") from None


def clean_pin(pin: str | None) -> str:
    pin = (pin or "").strip()
    if pin and not is_valid_pin(pin):
        raise DomainError("A PIN has 4 to 10 digits.", field="pin")
    return pin


def clean_order_number(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > ORDER_NUMBER_MAX:
        raise DomainError(
            f"An order number has at most {ORDER_NUMBER_MAX} characters.", field="order_number"
        )
    return text


def clean_amount(value, *, decimals: int, allow_negative: bool, currency: str = "") -> Decimal:
    """A Decimal with at most `decimals` decimals and at most 1,000,000 either way.

    value: a Decimal or int, or text as typed (a dot as the decimal separator), which is
    parsed by the forms' own parser (values.money.parse_amount). currency: named with the
    amounts in the messages."""
    if isinstance(value, str):
        try:
            return parse_amount(
                value, decimals=decimals, allow_negative=allow_negative, currency=currency
            )
        except ValidationError as exc:
            raise DomainError(exc.messages[0], field="amount") from None
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int)):
        raise DomainError("Enter the amount as a decimal number.", field="amount")
    value = Decimal(value)
    if not value.is_finite():
        raise DomainError("Enter the amount as a decimal number.", field="amount")
    try:
        return check_amount(
            value, decimals=decimals, allow_negative=allow_negative, currency=currency
        )
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="amount") from None


def clean_initial_credit(
    credit, *, unlimited: bool, decimals: int, currency: str = ""
) -> tuple[Decimal | None, bool]:
    """(amount, unlimited) for a new CallerID: an amount 0..1,000,000 or Unlimited."""
    if unlimited:
        if credit is not None and credit != "":
            raise DomainError(NOT_BOTH)
        return None, True
    if credit is None or credit == "":
        return Decimal("0"), False
    return clean_amount(credit, decimals=decimals, allow_negative=False, currency=currency), False


def clean_row(
    row: NewCallerID, *, default_country: str | None, decimals: int, currency: str = ""
) -> tuple[CleanRow | None, dict[str, list[str]]]:
    """The normalized row, or None and every message that applies to it, by field."""
    errors: dict[str, list[str]] = {}
    values = {}
    checks = (
        ("number", lambda: clean_number(row.number, default_country=default_country)),
        ("pin", lambda: clean_pin(row.pin)),
        (
            "credit",
            lambda: clean_initial_credit(
                row.credit, unlimited=row.unlimited, decimals=decimals, currency=currency
            ),
        ),
        ("order_number", lambda: clean_order_number(row.order_number)),
    )
    for name, check in checks:
        try:
            values[name] = check()
        except DomainError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    if errors:
        return None, errors
    credit, unlimited = values["credit"]
    return (
        CleanRow(
            number=values["number"],
            pin=values["pin"],
            credit=credit,
            unlimited=unlimited,
            order_number=values["order_number"],
        ),
        {},
    )


def duplicate_message(existing: AuthorizedCallerID) -> str:
    """The refusal naming the entry that already holds the number on this extension."""
    added = timezone.localtime(existing.created_at).strftime("%Y-%m-%d %H:%M")
    return (
        f"{existing.number} is already on this extension "
        f"(CallerID #{existing.pk}, {existing.get_status_display().lower()}, added {added})."
    )
