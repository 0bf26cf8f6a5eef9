"""Request and response types of the provisioning API (SPEC §13).

Requests are checked here only for shape (types, sizes); every rule on values (numbers,
PINs, amounts, order numbers, Unlimited) is the services', so the API and the web forms
refuse the same things with the same messages.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, PlainValidator, StrictBool, WithJsonSchema

from api.schemas import CreditResult, Money, Text
from callerids.services.validation import API_MAX_ROWS

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
SIGNED_MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{4}$"


def _amount(value: object) -> str | int | Decimal:
    # Passed on as sent: the service parses text with the forms' own parser, so "1,5"
    # gets the form's "Use a dot as the decimal separator".
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('must be a decimal number written as a string, e.g. "10.00"')
    return value


Amount = Annotated[
    str | int | Decimal,
    PlainValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^-?[0-9]{1,7}(\.[0-9]{1,4})?$"},
                {"type": "number", "minimum": -1000000, "maximum": 1000000},
            ],
            "description": "A decimal number with a dot, at most the shown decimals.",
            "examples": ["10.00"],
        }
    ),
]
SignedMoney = Annotated[str, Field(pattern=SIGNED_MONEY_PATTERN, examples=["-2.5000"])]
ShortText = Annotated[Text, Field(max_length=255)]


class PageQuery(Schema):
    cursor: str | None = Field(
        default=None, max_length=64, description="`next` of the previous page."
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows, 1 to 500.")


class CallerIDSearch(Schema):
    """The list page's search (SPEC §4): any part of the number, status (default: not
    removed), credit state."""

    q: str | None = Field(default=None, max_length=32, examples=["0721"])
    status: Literal["enabled", "disabled", "removed"] | None = None
    credit: Literal["unlimited", "has_credit", "no_credit"] | None = None


class Page(Schema):
    next: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page.",
        examples=[None],
    )


class Extension(Schema):
    number: str = Field(examples=["0003*001"])
    name: str = Field(examples=["Sales callback"])
    organization: str = Field(examples=["Org A1"])
    reseller: str = Field(examples=["Reseller A"])
    active: bool
    return_mode: Literal["authorized", "caller", "fixed"]
    min_credit: Money = Field(description="Do not call back if available credit is below it.")
    max_call_duration_seconds: int = Field(
        description="Maximum call duration (SPEC §11): calls/start never allows more.",
        examples=[3600],
    )
    max_calls_per_callerid: int | None = Field(
        description="Maximum simultaneous calls per CallerID; null = no limit.", examples=[1]
    )
    max_calls: int | None = Field(
        description="Maximum simultaneous calls on this extension; null = no limit.",
        examples=[None],
    )
    daily_limit: Money | None = Field(
        description="Daily spending limit per CallerID (server time zone); null = none.",
        examples=[None],
    )
    created_at: datetime


class ExtensionPage(Page):
    results: list[Extension]


class CallerID(Schema):
    id: int = Field(examples=[42])
    extension: str = Field(examples=["0003*001"])
    number: str = Field(examples=["+40721000123"])
    status: Literal["enabled", "disabled", "removed"]
    status_reason: str = Field(description='Why it is disabled by the system, e.g. "locked".')
    pin: bool = Field(description="Whether it has a PIN (never the PIN itself).")
    unlimited: bool
    available: Money | None = Field(description="Credit left; null when unlimited.")
    total: Money | None = Field(description="Credit granted; null when unlimited.")
    created_at: datetime
    removed_at: datetime | None


class CallerIDPage(Page):
    results: list[CallerID]


class NewCallerID(Schema):
    number: Annotated[Text, Field(max_length=64, examples=["0721 000 123"])]
    pin: Annotated[Text | None, Field(max_length=64, examples=["1234"])] = None
    initial_credit: Amount | None = None
    unlimited: StrictBool = False
    order_number: Annotated[ShortText | None, Field(examples=["WEB-1001"])] = None


class BulkCreateRequest(Schema):
    callerids: Annotated[list[NewCallerID], Field(min_length=1, max_length=API_MAX_ROWS)]


class BulkCreateResult(Schema):
    callerids: list[CallerID]


class CallerIDPatch(Schema):
    """Only the fields sent change. `pin: null` removes the PIN."""

    number: Annotated[Text | None, Field(max_length=64, examples=["+40721000124"])] = None
    pin: Annotated[Text | None, Field(max_length=64, examples=["4321"])] = None
    status: Literal["enabled", "disabled"] | None = None


class RechargeRequest(Schema):
    amount: Amount | None = None
    unlimited: StrictBool = False
    order_number: Annotated[ShortText | None, Field(examples=["WEB-1002"])] = None


class Recharge(Schema):
    id: int
    kind: Literal["initial", "recharge", "adjustment", "set_unlimited", "set_limited"]
    amount: SignedMoney | None = Field(description="The amount entered; null for Unlimited.")
    balance_after: Money | None = Field(description="Credit left after it; null while unlimited.")
    order_number: str
    added_by: str = Field(examples=["token:shop"])
    created_at: datetime


class RechargePage(Page):
    results: list[Recharge]


class RechargeResult(Schema):
    recharge: Recharge
    credit: CreditResult
