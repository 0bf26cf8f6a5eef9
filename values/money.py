"""Money: parsing what users type, quantizing and formatting. Decimal only, never float."""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError

FOUR_PLACES = Decimal("0.0001")
MAX_OPERATION = Decimal("1000000")  # one operation moves at most this much
MAX_BALANCE = Decimal("9999999999.9999")
UNLIMITED = "Unlimited"

_AMOUNT_RE = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def parse_amount(
    text: str,
    *,
    decimals: int,
    allow_negative: bool = False,
    field: str = "amount",
    currency: str = "",
) -> Decimal:
    """Parse a typed amount with a dot separator and at most `decimals` decimals.

    Raises ValidationError with a message a user can act on (amounts in it shown with
    `decimals` and `currency`, as pages show money).
    """
    value = read_amount(text, field=field)
    return check_amount(value, decimals=decimals, allow_negative=allow_negative, currency=currency)


def read_amount(text: str, *, field: str = "amount") -> Decimal:
    """The Decimal a user typed: ASCII digits, an optional sign, a dot before the decimals.

    Python's Decimal() also reads other scripts' digits ("١" is 1) and "1e3": refused here.
    """
    raw = (text or "").strip()
    if "," in raw:
        raise ValidationError("Use a dot as the decimal separator.", code="comma")
    if not _AMOUNT_RE.match(raw):
        raise ValidationError(f"Enter a number for the {field}.", code="invalid")
    try:
        return unsigned_zero(Decimal(raw))
    except InvalidOperation:
        raise ValidationError(f"Enter a number for the {field}.", code="invalid") from None


def unsigned_zero(value: Decimal) -> Decimal:
    """Negative zero ("-0", "-0.00", a JSON -0.0) as plain zero.

    A Decimal keeps the sign of a typed "-0": it would be recorded and shown as "-0.00" and
    answered as "-0.0000", which no money pattern accepts. Every parser of money ends here.
    """
    return abs(value) if value.is_zero() else value


def check_amount(
    value: Decimal, *, decimals: int, allow_negative: bool = False, currency: str = ""
) -> Decimal:
    """The amount if it is one a user may move (decimals, sign, size), negative zero as zero;
    ValidationError otherwise (amounts in its message shown as pages show money)."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        if decimals == 0:
            raise ValidationError("Enter a whole amount (no decimals).", code="decimals")
        raise ValidationError(f"Use at most {decimals} decimals.", code="decimals")
    if value < 0 and not allow_negative:
        raise ValidationError("Enter an amount of 0 or more.", code="negative")
    if abs(value) > MAX_OPERATION:
        limit = format_money(MAX_OPERATION, decimals, currency, bound=True)
        raise ValidationError(f"One operation moves at most {limit}.", code="too_large")
    return unsigned_zero(value)


def quantize4(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES)


def format_amount(
    value: Decimal | None,
    decimals: int,
    *,
    unlimited: bool = False,
    rounding: str = ROUND_HALF_UP,
) -> str:
    """An amount as shown on pages: rounded to the shown decimals; None/unlimited -> Unlimited."""
    if unlimited or value is None:
        return UNLIMITED
    step = Decimal(1).scaleb(-decimals)
    return f"{value.quantize(step, rounding=rounding):,.{decimals}f}"


def format_money(
    value: Decimal | None,
    decimals: int,
    currency: str,
    *,
    unlimited: bool = False,
    bound: bool = False,
) -> str:
    """An amount in a message, as pages show it: "1,234.50 EUR" (Unlimited stays "Unlimited").

    Every message that names an amount goes through here. bound: the amount is a limit
    ("at most X"), so it is rounded down: the amount named is one the form accepts.
    Exports never use this: they keep the exact 4-decimal value.
    """
    rounding = ROUND_DOWN if bound else ROUND_HALF_UP
    text = format_amount(value, decimals, unlimited=unlimited, rounding=rounding)
    if text == UNLIMITED or not currency:
        return text
    return f"{text} {currency}"


# The longest order number a credit change may carry (SPEC §5.1).
ORDER_NUMBER_MAX = 64
