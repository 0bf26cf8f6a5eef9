"""The callback decision (SPEC §9, `POST /api/v1/callback/authorize`): a read, no writes.

Reasons to reject are checked in the SPEC's order and the first that applies wins:
hidden_callerid, not_authorized, disabled, no_credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from api.auth import COLUMNS, token_from_row
from callback.models import CallbackExtension, OutboundCallerIDMode, ReturnMode
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.ledger import decimal_from_db
from database.prepared import Statement
from database.tables import table
from tenancy.models import ApiToken, Organization, Reseller
from tenancy.preferences import get_preferences_cached
from tenancy.services import tokens
from values.money import quantize4
from values.phone import InvalidNumber, normalize_number

HIDDEN = "hidden_callerid"
NOT_AUTHORIZED = "not_authorized"
DISABLED = "disabled"
NO_CREDIT = "no_credit"

# What PBXs and carriers put in place of a number they withhold.
HIDDEN_CALLER_VALUES = frozenset(
    {"", "anonymous", "unknown", "restricted", "private", "unavailable"}
)


def is_hidden(caller_id: str | None) -> bool:
    return caller_id is None or caller_id.strip().casefold() in HIDDEN_CALLER_VALUES


def _normalized(caller_id: str | None, default_country: str) -> str | None:
    if is_hidden(caller_id):
        return None
    try:
        return normalize_number(caller_id, default_country or None)
    except InvalidNumber:
        return None


def has_credit_for_callback(
    callerid: AuthorizedCallerID | _CallerID, extension: CallbackExtension | _Extension
) -> bool:
    """The API's credit predicate: Unlimited, or more than 0 and not below the minimum."""
    if callerid.unlimited:
        return True
    available = callerid.available
    return available > 0 and available >= extension.min_credit


def _reject(reason: str) -> dict:
    return {"decision": "reject", "reason": reason}


def _outbound_callerid(extension: CallbackExtension | _Extension, caller: str | None) -> str | None:
    if extension.outbound_callerid_mode == OutboundCallerIDMode.USER:
        return extension.outbound_callerid or None
    if extension.outbound_callerid_mode == OutboundCallerIDMode.CALLER:
        return caller
    return None  # set by server: the PBX decides


def _callback(
    extension: _Extension,
    *,
    number: str,
    caller: str | None,
    callerid: _CallerID | None = None,
    currency: str = "",
) -> dict:
    credit = None
    if callerid is not None:
        credit = {
            "unlimited": callerid.unlimited,
            "available": None if callerid.unlimited else f"{quantize4(callerid.available)}",
            "currency": currency,
        }
    return {
        "decision": "callback",
        "callback_number": number,
        "trigger_after_seconds": extension.trigger_after_seconds,
        "dial_timeout_seconds": extension.dial_timeout_seconds,
        "pin_required": bool(callerid is not None and callerid.has_pin),
        "callerid_id": callerid.pk if callerid is not None else None,
        "credit": credit,
        "disconnect_sound": extension.disconnect_sound or None,
        "outbound_callerid": _outbound_callerid(extension, caller),
    }


# One round trip answers the whole decision: the extension, its owners' "active" flags and
# the CallerID of that number on it (if any, removed ones excluded; at most one by the
# unique constraint). The token's scope is the same filter as
# extensions_for_token: a reseller's token sees only its reseller's extensions (the
# reseller condition is appended below). A prepared statement because this is the PBX's
# hot path: the ORM's query building, and PostgreSQL's planning, cost several times the
# query itself (docs/api.md, "Performance"); the tests compare it with the scoping module.
_DECISION_COLUMNS = (
    "e.id", "e.return_mode", "e.fixed_number", "e.trigger_after_seconds",
    "e.dial_timeout_seconds", "e.disconnect_sound", "e.outbound_callerid_mode",
    "e.outbound_callerid", "e.min_credit", "e.active", "o.active", "r.active",
    "c.id", "c.number", "c.status", "c.unlimited", "c.available", "c.pin_hash",
)  # fmt: skip
_DECISION_FROM = f"""
  FROM {table(CallbackExtension)} e
  JOIN {table(Organization)} o ON o.id = e.organization_id
  JOIN {table(Reseller)} r ON r.id = o.reseller_id
  LEFT JOIN {table(AuthorizedCallerID)} c
    ON c.extension_id = e.id AND c.number = %s AND c.status <> %s
 WHERE e.number = %s
"""
_DECISION_SQL = f"SELECT {', '.join(_DECISION_COLUMNS)}{_DECISION_FROM}"
_DECIDE = Statement("decide", _DECISION_SQL)
_DECIDE_IN_RESELLER = Statement("decide_in_reseller", _DECISION_SQL + " AND o.reseller_id = %s")
# The hot path's single round trip (api/authorize_view.py): the token of a prefix
# (auth.py's columns, in its order) and beside it the same decision row, in the token's
# scope (all NULL when the extension is unknown or outside it). The decision is a
# subquery, not a LATERAL join, so SQLite runs the same statement.
_INNER = ", ".join(f"{column} AS v{n}" for n, column in enumerate(_DECISION_COLUMNS))
_TOKEN_AND_DECISION = Statement(
    "token_and_decision",
    f"SELECT {', '.join(f't.{column}' for column in COLUMNS)}, "
    f"{', '.join(f'd.v{n}' for n in range(len(_DECISION_COLUMNS)))}"
    f" FROM {table(ApiToken)} t"
    f" LEFT JOIN (SELECT o.reseller_id AS reseller, {_INNER}{_DECISION_FROM}) d"
    " ON t.reseller_id IS NULL OR d.reseller = t.reseller_id"
    " WHERE t.prefix = %s",
)


@dataclass(frozen=True, slots=True)
class _Extension:
    """What the decision reads of the extension (the attributes CallbackExtension has)."""

    pk: int
    return_mode: str
    fixed_number: str
    trigger_after_seconds: int
    dial_timeout_seconds: int
    disconnect_sound: str
    outbound_callerid_mode: str
    outbound_callerid: str
    min_credit: Decimal
    service_active: bool  # the extension, its organization and its reseller


@dataclass(frozen=True, slots=True)
class _CallerID:
    """What the decision reads of the CallerID (the attributes AuthorizedCallerID has)."""

    pk: int
    number: str
    status: str
    unlimited: bool
    available: Decimal | None
    has_pin: bool


def _lookup(
    token: ApiToken, extension_number: str, caller: str | None
) -> tuple[_Extension, _CallerID | None] | None:
    """The extension in the token's scope and the (not removed) CallerID `caller` on it."""
    params = [caller, CallerIDStatus.REMOVED.value, extension_number]
    if token.reseller_id is None:
        row = _DECIDE.fetchone(params)
    else:
        row = _DECIDE_IN_RESELLER.fetchone([*params, token.reseller_id])
    return None if row is None else _found(row)


def _found(row) -> tuple[_Extension, _CallerID | None] | None:
    """The decision row's extension and CallerID (None when the row is all NULLs)."""
    if row[0] is None:
        return None
    extension = _Extension(
        pk=row[0],
        return_mode=row[1],
        fixed_number=row[2],
        trigger_after_seconds=row[3],
        dial_timeout_seconds=row[4],
        disconnect_sound=row[5],
        outbound_callerid_mode=row[6],
        outbound_callerid=row[7],
        min_credit=decimal_from_db(row[8]),
        service_active=bool(row[9]) and bool(row[10]) and bool(row[11]),
    )
    callerid = None
    if row[12] is not None:
        callerid = _CallerID(
            pk=row[12],
            number=row[13],
            status=row[14],
            unlimited=bool(row[15]),
            available=decimal_from_db(row[16]),
            has_pin=bool(row[17]),
        )
    return extension, callerid


def decide(*, token: ApiToken, extension_number: str, caller_id: str | None) -> dict:
    """Whether to call the caller back, and how; the response body of authorize.

    Raises CallbackExtension.DoesNotExist when the extension is unknown or outside the
    token's scope. A caller value that does not normalize is not_authorized, never an error.
    The charging preferences (default country, currency) are a copy at most a few seconds
    old (tenancy.preferences.get_preferences_cached).
    """
    preferences = get_preferences_cached()
    caller = _normalized(caller_id, preferences.default_country)
    return _decision(_lookup(token, extension_number, caller), caller_id, caller, preferences)


def authenticate_and_decide(
    plaintext: str, *, address: str | None, extension_number: str, caller_id: str | None
) -> tuple[ApiToken | None, dict | None]:
    """The hot path's authorize in one round trip: the live token this text proves (the
    rules of services.tokens.authenticate_token, its last-use UPDATE included) and, when
    there is one, decide()'s answer for it (None when the extension is unknown or outside
    its scope). (None, None) when the token proves nothing. The caller checks the token's
    permission before using the answer.
    """
    preferences = get_preferences_cached()
    caller = _normalized(caller_id, preferences.default_country)
    row = None

    def find(prefix: str) -> ApiToken | None:
        nonlocal row
        row = _TOKEN_AND_DECISION.fetchone(
            [caller, CallerIDStatus.REMOVED.value, extension_number, prefix]
        )
        return None if row is None else token_from_row(row[: len(COLUMNS)])

    token = tokens.authenticate_token(plaintext, address=address, find=find)
    if token is None:
        return None, None
    found = _found(row[len(COLUMNS) :])
    if found is None:
        return token, None
    return token, _decision(found, caller_id, caller, preferences)


def _decision(found, caller_id: str | None, caller: str | None, preferences) -> dict:
    if found is None:
        raise CallbackExtension.DoesNotExist("unknown extension")
    extension, callerid = found
    mode = extension.return_mode
    # In fixed mode the caller's number does not choose anything, so hiding it is fine.
    if mode != ReturnMode.FIXED and is_hidden(caller_id):
        return _reject(HIDDEN)

    if mode == ReturnMode.FIXED:
        # An empty fixed number cannot be saved by the form; never call "nobody" back.
        if not extension.service_active or not extension.fixed_number:
            return _reject(DISABLED)
        return _callback(extension, number=extension.fixed_number, caller=caller)

    if caller is None:
        return _reject(NOT_AUTHORIZED)

    if mode == ReturnMode.CALLER:
        if not extension.service_active:
            return _reject(DISABLED)
        return _callback(extension, number=caller, caller=caller)

    if callerid is None:
        return _reject(NOT_AUTHORIZED)
    if not extension.service_active or callerid.status != CallerIDStatus.ENABLED:
        return _reject(DISABLED)
    if not has_credit_for_callback(callerid, extension):
        return _reject(NO_CREDIT)
    return _callback(
        extension,
        number=callerid.number,
        caller=caller,
        callerid=callerid,
        currency=preferences.currency,
    )
