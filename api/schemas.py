"""Request and response types of the PBX API (SPEC §9).

The same types validate requests, shape responses and generate /api/v1/openapi.json, so
the published schema cannot drift from what the code does. Money travels as a string with
4 decimals (never a float); a cost may also be sent as a JSON number, which the parser
reads as a Decimal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from values.money import MAX_OPERATION, check_amount

# Largest primary key the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1
# Calls are stored in a 32-bit integer column.
MAX_DURATION = 2**31 - 1
EXTENSION_MAX_LENGTH = 64
MONEY_PATTERN = r"^[0-9]+\.[0-9]{4}$"
_COST_TEXT_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,4})?$"
_COST_TEXT_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def _plain_text(value: str) -> str:
    # PostgreSQL refuses NUL in text, and lone surrogates cannot be encoded: refuse both as
    # malformed here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _cost(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('must be a decimal number written as a string, e.g. "0.4167"')
    if isinstance(value, str):
        if not _COST_TEXT_RE.match(value.strip()):
            raise ValueError("must be a number of 0 or more with a dot as decimal separator")
        value = value.strip()
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    try:
        return check_amount(amount, decimals=4)
    except DjangoValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from None


def _utc_representable(value: datetime) -> datetime:
    # In UTC: any offset ISO 8601 allows (up to ±23:59) is read, while PostgreSQL refuses
    # offsets beyond ±15:59 if handed the value as sent.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Text = Annotated[StrictStr, AfterValidator(_plain_text)]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Field(ge=1, le=MAX_ID)]  # a path segment is text: read as a number


def _amount(description: str, example: str):
    return Annotated[
        Decimal,
        BeforeValidator(_cost),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": _COST_TEXT_PATTERN},
                    {"type": "number", "minimum": 0, "maximum": int(MAX_OPERATION)},
                ],
                "description": description,
                "examples": [example],
            }
        ),
    ]


Cost = _amount("The whole call's cost, 0 or more, at most 4 decimals.", "0.4167")
Rate = _amount("The call's rate per minute, 0 or more, at most 4 decimals.", "0.0500")
Fee = _amount("Charged once when the call connects, 0 or more, at most 4 decimals.", "0.0000")
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["12.5000"])]


class AuthorizeRequest(Schema):
    # authorize_view.plain_fields checks the same (its fast path): keep them together.
    extension: Annotated[Text, Field(max_length=EXTENSION_MAX_LENGTH, examples=["0003*001"])]
    # null or empty means the caller's number is hidden. Any text is accepted: one that
    # does not normalize is not authorized, never malformed (it is only ever normalized).
    caller_id: Annotated[StrictStr | None, Field(examples=["0721 000 123"])]


class Credit(Schema):
    unlimited: bool
    available: Money | None = Field(description="What the call may spend; null when unlimited.")
    currency: str


class AuthorizeCallback(Schema):
    decision: Literal["callback"]
    callback_number: str
    trigger_after_seconds: int
    dial_timeout_seconds: int
    pin_required: bool
    callerid_id: int | None
    credit: Credit | None
    disconnect_sound: str | None
    outbound_callerid: str | None


class AuthorizeReject(Schema):
    decision: Literal["reject"]
    reason: Literal["hidden_callerid", "not_authorized", "disabled", "no_credit"]


AuthorizeResponse = Annotated[AuthorizeCallback | AuthorizeReject, Field(discriminator="decision")]


class VerifyPinRequest(Schema):
    callerid_id: Id
    pin: Annotated[Text, Field(max_length=64, examples=["1234"])]


class PinOk(Schema):
    result: Literal["ok"]


class PinInvalid(Schema):
    result: Literal["pin_invalid"]
    attempts_left: int | None = Field(description="Wrong PINs left; null when there is no limit.")


class PinLocked(Schema):
    result: Literal["locked"]


PinResponse = Annotated[PinOk | PinInvalid | PinLocked, Field(discriminator="result")]


class CallRequest(Schema):
    call_id: Annotated[Text, Field(min_length=1, max_length=128, examples=["pbx1-1700000000.123"])]
    extension: Annotated[Text, Field(max_length=64, examples=["0003*001"])]
    # What authorize returned: null in the modes that do not use the list (unmetered).
    callerid_id: Id | None
    caller_id: Annotated[Text | None, Field(max_length=64, examples=["+40721000123"])] = None
    destination: Annotated[Text | None, Field(max_length=64, examples=["+4031000000"])] = None
    started_at: Annotated[AwareDatetime, AfterValidator(_utc_representable)] = Field(
        description="When the call started, with a time zone (e.g. 2026-11-26T10:00:00Z)."
    )
    duration_seconds: Annotated[StrictInt, Field(ge=0, le=MAX_DURATION)]
    cost: Cost | None = Field(
        default=None,
        description=(
            "The whole call's cost. May be left out (or null) for a call that was started "
            "(calls/start): it is then connection_fee + rate_per_minute × duration_seconds "
            "/ 60 of the start, rounded up to 4 decimals."
        ),
    )


class CallResult(Schema):
    call_id: str
    callerid_id: int | None
    metered: bool
    charged: Money
    shortfall: Money
    available: Money | None


class CallStartRequest(Schema):
    call_id: Annotated[Text, Field(min_length=1, max_length=128, examples=["pbx1-1700000000.123"])]
    extension: Annotated[Text, Field(max_length=64, examples=["0003*001"])]
    # What authorize returned: null in the modes that do not use the list.
    callerid_id: Id | None
    destination: Annotated[Text, Field(min_length=1, max_length=64, examples=["+4031000000"])]
    rate_per_minute: Rate
    connection_fee: Fee = Decimal("0")


class CallStartAllow(Schema):
    decision: Literal["allow"]
    call_id: str
    max_duration_seconds: int = Field(
        description="The call's hard time limit: disconnect it after this many seconds."
    )
    held: Money | None = Field(description="Credit held for the call; null when not metered.")
    available: Money | None = Field(
        description="What new calls of this CallerID can still use; null when not metered."
    )


class CallStartDeny(Schema):
    decision: Literal["deny"]
    reason: Literal[
        "disabled",
        "destination_blocked",
        "premium_rate",
        "rate_too_high",
        "too_many_calls",
        "daily_limit_reached",
        "no_credit",
    ]


CallStartResponse = Annotated[CallStartAllow | CallStartDeny, Field(discriminator="decision")]


class CreditResult(Schema):
    unlimited: bool
    available: Money | None
    total: Money | None
    held: Money | None = Field(
        description="Held by this CallerID's calls in progress; null when unlimited."
    )
    currency: str


class Error(Schema):
    error: Literal[
        "malformed",
        "unauthenticated",
        "not_permitted",
        "unknown_extension",
        "unknown_callerid",
        "call_id_conflict",
        "validation_failed",
        "license_exceeded",
        "idempotency_conflict",
    ]
    detail: str
    errors: dict[str, list[str]] | None = Field(
        default=None,
        description=(
            "validation_failed only (provisioning API): messages by field; in a bulk create "
            '"callerids.<row>.<field>" (rows counted from 0).'
        ),
        examples=[{"callerids.3.number": ["Enter a valid phone number."]}],
    )
