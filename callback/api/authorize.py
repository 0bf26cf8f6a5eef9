"""The callback decision (SPEC §9, `POST /api/v1/callback/authorize`): a read, no writes.

Reasons to reject are checked in the SPEC's order and the first that applies wins:
hidden_callerid, not_authorized, disabled, no_credit.
"""

from __future__ import annotations

from callback import scoping
from callback.models import ApiToken, CallbackExtension, OutboundCallerIDMode, ReturnMode
from callback.phone import InvalidNumber, normalize_number
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.money import quantize4
from credit.selectors import get_preferences

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


def _service_active(extension: CallbackExtension) -> bool:
    organization = extension.organization
    return extension.active and organization.active and organization.reseller.active


def has_credit_for_callback(callerid: AuthorizedCallerID, extension: CallbackExtension) -> bool:
    """The API's credit predicate: Unlimited, or more than 0 and not below the minimum."""
    if callerid.unlimited:
        return True
    available = callerid.available
    return available > 0 and available >= extension.min_credit


def _reject(reason: str) -> dict:
    return {"decision": "reject", "reason": reason}


def _outbound_callerid(extension: CallbackExtension, caller: str | None) -> str | None:
    if extension.outbound_callerid_mode == OutboundCallerIDMode.USER:
        return extension.outbound_callerid or None
    if extension.outbound_callerid_mode == OutboundCallerIDMode.CALLER:
        return caller
    return None  # set by server: the PBX decides


def _callback(
    extension: CallbackExtension,
    *,
    number: str,
    caller: str | None,
    callerid: AuthorizedCallerID | None = None,
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


def decide(*, token: ApiToken, extension_number: str, caller_id: str | None) -> dict:
    """Whether to call the caller back, and how; the response body of authorize.

    Raises CallbackExtension.DoesNotExist when the extension is unknown or outside the
    token's scope. A caller value that does not normalize is not_authorized, never an error.
    """
    extension = scoping.extensions_for_token(token).filter(number=extension_number).first()
    if extension is None:
        raise CallbackExtension.DoesNotExist("unknown extension")
    mode = extension.return_mode
    # In fixed mode the caller's number does not choose anything, so hiding it is fine.
    if mode != ReturnMode.FIXED and is_hidden(caller_id):
        return _reject(HIDDEN)
    preferences = get_preferences()
    caller = _normalized(caller_id, preferences.default_country)

    if mode == ReturnMode.FIXED:
        # An empty fixed number cannot be saved by the form; never call "nobody" back.
        if not _service_active(extension) or not extension.fixed_number:
            return _reject(DISABLED)
        return _callback(extension, number=extension.fixed_number, caller=caller)

    if caller is None:
        return _reject(NOT_AUTHORIZED)

    if mode == ReturnMode.CALLER:
        if not _service_active(extension):
            return _reject(DISABLED)
        return _callback(extension, number=caller, caller=caller)

    callerid = (
        AuthorizedCallerID.objects.filter(extension=extension, number=caller)
        .exclude(status=CallerIDStatus.REMOVED)
        .first()
    )
    if callerid is None:
        return _reject(NOT_AUTHORIZED)
    if not _service_active(extension) or callerid.status != CallerIDStatus.ENABLED:
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
