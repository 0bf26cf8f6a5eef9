"""The endpoints of /api/v1/ (SPEC §9). Thin: validate (schemas), call a selector or a
service, map "not found in scope" to the SPEC's error codes."""

from __future__ import annotations

import json
from contextlib import contextmanager
from decimal import Decimal

from django.http import HttpRequest
from ninja import NinjaAPI, Path, Status
from ninja.parser import Parser

from api import schemas
from api.auth import BearerToken
from api.authorize import decide
from api.errors import (
    CALL_ID_CONFLICT,
    MALFORMED,
    UNKNOWN_CALLERID,
    UNKNOWN_EXTENSION,
    ApiError,
    install_error_handlers,
)
from callback.models import CallbackExtension
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.scope import callerids_for_token
from callerids.services.pin_verification import verify_pin
from credit.selectors_holds import held_by_calls_in_progress
from credit.services.calls import CallIdConflict, CallOutcome, CallReport, MissingCost, report_call
from credit.services.holds import CallStart, StartOutcome, start_call
from tenancy.audit import Actor
from tenancy.client_address import client_address
from tenancy.models import TokenPermission
from tenancy.preferences import get_preferences
from values.money import quantize4


class DecimalJSONParser(Parser):
    """JSON with numbers read as Decimal: a cost sent as 0.1 stays exactly 0.1.

    Only an `application/json` body is read: any other answers 415 (ninja wraps this error
    in its 400; install_error_handlers unwraps it). A body over Django's upload limit never
    gets here: errors.py answers it 413.
    """

    def parse_body(self, request: HttpRequest):
        if request.content_type != "application/json":
            raise ApiError(415, MALFORMED, "Send the body as JSON: Content-Type: application/json.")
        return json.loads(request.body, parse_float=Decimal)


api = NinjaAPI(
    title="Callback Manager PBX API",
    version="1",
    description=(
        "Asked by the PBX at call time: authorize a callback, verify a PIN, report a finished "
        "call, read a CallerID's credit (tokens with the `pbx` permission); and the provisioning "
        "API for resellers' own systems: list extensions, add, edit and remove CallerIDs, "
        "recharge credit (tokens with the `provisioning` permission). Authenticate with "
        "`Authorization: Bearer <token>`."
    ),
    urls_namespace="api",
    # Every endpoint needs the `pbx` permission unless it says otherwise (the provisioning
    # router asks for `provisioning`): a new PBX endpoint cannot forget the check.
    auth=BearerToken(TokenPermission.PBX),
    parser=DecimalJSONParser(),
)
install_error_handlers(api)

ERRORS = {400: schemas.Error, 401: schemas.Error, 403: schemas.Error, 404: schemas.Error}


def _unknown_extension() -> ApiError:
    return ApiError(404, UNKNOWN_EXTENSION, "No such callback extension.")


def _unknown_callerid() -> ApiError:
    return ApiError(404, UNKNOWN_CALLERID, "No such authorized CallerID.")


def _actor(request: HttpRequest) -> Actor:
    return Actor(token=request.auth, address=client_address(request))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{quantize4(value)}"


@api.post(
    "/callback/authorize",
    response={200: schemas.AuthorizeResponse, **ERRORS},
    operation_id="authorize",
    summary="Decide whether to call a caller back",
)
def authorize(request: HttpRequest, payload: schemas.AuthorizeRequest):
    try:
        return decide(
            token=request.auth, extension_number=payload.extension, caller_id=payload.caller_id
        )
    except CallbackExtension.DoesNotExist:
        raise _unknown_extension() from None


@api.post(
    "/callback/verify-pin",
    response={200: schemas.PinResponse, **ERRORS},
    operation_id="verify_pin",
    summary="Check the PIN the caller typed",
)
def verify_pin_view(request: HttpRequest, payload: schemas.VerifyPinRequest):
    try:
        outcome = verify_pin(
            token=request.auth,
            callerid_id=payload.callerid_id,
            pin=payload.pin,
            actor=_actor(request),
        )
    except AuthorizedCallerID.DoesNotExist:
        raise _unknown_callerid() from None
    if outcome.result == "pin_invalid":
        return {"result": outcome.result, "attempts_left": outcome.attempts_left}
    return {"result": outcome.result}


def _call_body(outcome: CallOutcome) -> dict:
    return {
        "call_id": outcome.call_id,
        "callerid_id": outcome.callerid_id,
        "metered": outcome.metered,
        "charged": _money(outcome.charged),
        "shortfall": _money(outcome.shortfall),
        "available": _money(outcome.available),
    }


@contextmanager
def _call_errors(conflict_detail: str):
    """The errors a call start or report answers: unknown extension or CallerID (404, also
    outside the token's scope) and a call_id used for another call (409)."""
    try:
        yield
    except CallbackExtension.DoesNotExist:
        raise _unknown_extension() from None
    except AuthorizedCallerID.DoesNotExist:
        raise _unknown_callerid() from None
    except CallIdConflict:
        raise ApiError(409, CALL_ID_CONFLICT, conflict_detail) from None


@api.post(
    "/calls",
    response={201: schemas.CallResult, 200: schemas.CallResult, 409: schemas.Error, **ERRORS},
    operation_id="report_call",
    summary="Report a finished call and charge it",
)
def report_call_view(request: HttpRequest, payload: schemas.CallRequest):
    report = CallReport(
        call_id=payload.call_id,
        extension=payload.extension,
        callerid_id=payload.callerid_id,
        caller_id=payload.caller_id or "",
        destination=payload.destination or "",
        started_at=payload.started_at,
        duration_seconds=payload.duration_seconds,
        cost=payload.cost,
    )
    try:
        with _call_errors("This call_id was already reported for another call."):
            outcome = report_call(token=request.auth, report=report, actor=_actor(request))
    except MissingCost:
        raise ApiError(
            400, MALFORMED, "cost is required for a call that was not started (calls/start)."
        ) from None
    return Status(201 if outcome.created else 200, _call_body(outcome))


def _start_body(outcome: StartOutcome) -> dict:
    if outcome.decision != "allow":
        return {"decision": outcome.decision, "reason": outcome.reason}
    return {
        "decision": outcome.decision,
        "call_id": outcome.call_id,
        "max_duration_seconds": outcome.max_duration_seconds,
        "held": _money(outcome.held),
        "available": _money(outcome.available),
    }


@api.post(
    "/calls/start",
    response={
        201: schemas.CallStartAllow,
        200: schemas.CallStartResponse,
        409: schemas.Error,
        **ERRORS,
    },
    operation_id="start_call",
    summary="Admit a call about to be connected: hold credit and get its time limit",
)
def start_call_view(request: HttpRequest, payload: schemas.CallStartRequest):
    start = CallStart(
        call_id=payload.call_id,
        extension=payload.extension,
        callerid_id=payload.callerid_id,
        destination=payload.destination,
        rate_per_minute=payload.rate_per_minute,
        connection_fee=payload.connection_fee,
    )
    with _call_errors("This call_id was already used for another call."):
        outcome = start_call(token=request.auth, start=start)
    return Status(201 if outcome.created else 200, _start_body(outcome))


@api.get(
    "/callerids/{callerid_id}/credit",
    response={200: schemas.CreditResult, **ERRORS},
    operation_id="callerid_credit",
    summary="Read a CallerID's credit",
)
def callerid_credit(request: HttpRequest, callerid_id: Path[schemas.PathId]):
    callerid = (
        callerids_for_token(request.auth)
        .exclude(status=CallerIDStatus.REMOVED)
        .filter(pk=callerid_id)
        .annotate(held=held_by_calls_in_progress())
        .first()
    )
    if callerid is None:
        raise _unknown_callerid()
    return {
        "unlimited": callerid.unlimited,
        "available": _money(callerid.available),
        "total": _money(callerid.total),
        "held": None if callerid.unlimited else _money(callerid.held),
        "currency": get_preferences().currency,
    }


# The provisioning API (SPEC §13), on the same schema; imported last: it adds its router.
from api import provisioning  # noqa: E402

api.add_router("", provisioning.router)
