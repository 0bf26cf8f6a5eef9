"""The provisioning API (SPEC §13): resellers' own systems manage CallerIDs and credit.

HTTP only: every write calls the same service as the web form that does it
(callerids.services.callerids, credit.services.recharge), with the token as the actor, so
the rules, the locks, the ledger rows and the audit events are the forms'. Every write
accepts an Idempotency-Key (api.idempotency). Tokens need the `provisioning`
permission; a reseller's token sees only its reseller's objects (others answer 404).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Header, Path, Query, Router
from pydantic import Field

from api import provisioning_schemas as ps
from api import schemas
from api.auth import BearerToken
from api.errors import (
    LICENSE_EXCEEDED,
    NOT_PERMITTED,
    UNKNOWN_CALLERID,
    UNKNOWN_EXTENSION,
    VALIDATION_FAILED,
    ApiError,
)
from api.idempotency import run_write
from callback.models import CallbackExtension
from callback.scope import extensions_for_token
from callerids.filters import CallerIDFilter
from callerids.models import AuthorizedCallerID
from callerids.scope import callerids_for_token
from callerids.services import callerids as callerid_services
from callerids.services.validation import API_MAX_ROWS, NewCallerID, RowErrors
from credit.models import LedgerEntry, LedgerKind
from credit.selectors_holds import open_holds_of
from credit.services.recharge import add_credit
from tenancy.audit import Actor
from tenancy.client_address import client_address
from tenancy.models import TokenPermission
from tenancy.preferences import get_preferences
from values.errors import DomainError, LicenseExceeded, NotAllowed
from values.money import quantize4

router = Router(auth=BearerToken(TokenPermission.PROVISIONING), tags=["Provisioning"])

E = schemas.Error
READ_ERRORS = {400: E, 401: E, 403: E, 404: E, 422: E}
WRITE_ERRORS = {**READ_ERRORS, 409: E}
ExtensionNumber = Annotated[str, Field(max_length=21, examples=["0003*001"])]
# Declared for the schema only (idempotency.run_write reads and checks it).
KEY_HEADER = Header(
    None,
    alias="Idempotency-Key",
    max_length=255,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description="Any unique text (e.g. a UUID): the same key with the same body answers "
    "the first response and changes nothing; with another body, 409 idempotency_conflict.",
    examples=["0f8e7c1a-5b1d-4d0e-9a57-1d3c0b6f2a11"],
)


def _body_examples(**examples) -> dict:
    return {
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {name: {"value": value} for name, value in examples.items()}
                }
            }
        }
    }


# The service's row fields, by the names the API gives them.
_ROW_FIELDS = {"credit": "initial_credit"}


# Errors


def _unknown_extension() -> ApiError:
    return ApiError(404, UNKNOWN_EXTENSION, "No such callback extension.")


def _unknown_callerid() -> ApiError:
    return ApiError(404, UNKNOWN_CALLERID, "No such authorized CallerID.")


def _by_field(exc: DomainError) -> dict[str, list[str]]:
    """A service's messages by the field each names ("__all__": the whole request)."""
    return {field or "__all__": messages for field, messages in exc.by_field().items()}


def _refusal(exc: Exception, *, not_found) -> ApiError:
    """The API's answer to a service's refusal (SPEC §9, §13)."""
    if isinstance(exc, Http404):
        return not_found()
    if isinstance(exc, (NotAllowed, PermissionDenied)):
        detail = " ".join(exc.messages) if isinstance(exc, NotAllowed) else str(exc)
        return ApiError(403, NOT_PERMITTED, detail or "Not permitted.")
    if isinstance(exc, LicenseExceeded):
        return ApiError(409, LICENSE_EXCEEDED, " ".join(exc.messages))
    if isinstance(exc, RowErrors):
        errors = {
            f"callerids.{row}.{_ROW_FIELDS.get(field, field)}": messages
            for row, fields in exc.field_errors.items()
            for field, messages in fields.items()
        }
        return ApiError(422, VALIDATION_FAILED, " ".join(exc.messages), errors)
    assert isinstance(exc, DomainError)
    return ApiError(422, VALIDATION_FAILED, " ".join(exc.messages), _by_field(exc))


def _service(call, *, not_found):
    try:
        return call()
    except (Http404, PermissionDenied, DomainError) as exc:
        raise _refusal(exc, not_found=not_found) from None


# Reading


def _actor(request: HttpRequest) -> Actor:
    return Actor(token=request.auth, address=client_address(request))


def _after(cursor: str | None) -> int:
    """The id a cursor points after (0 for the first page)."""
    if not cursor:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        value = -1
    if value < 1:
        raise ApiError(
            422, VALIDATION_FAILED, "Unknown cursor.", {"cursor": ["Pass `next` as it came."]}
        )
    return value


def _page(queryset, *, page: ps.PageQuery, body) -> dict:
    """One page of `queryset` in id order after the cursor: {"results", "next"}."""
    limit = page.limit
    rows = list(queryset.filter(pk__gt=_after(page.cursor)).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    following = None
    if more:
        following = base64.urlsafe_b64encode(str(rows[-1].pk).encode()).decode().rstrip("=")
    return {"results": [body(row) for row in rows], "next": following}


def _money(value) -> str | None:
    return None if value is None else f"{quantize4(value)}"


def _when(value) -> str | None:
    return None if value is None else value.isoformat()


def _extension_body(extension: CallbackExtension) -> dict:
    return {
        "number": extension.number,
        "name": extension.name,
        "organization": extension.organization.name,
        "reseller": extension.organization.reseller.name,
        "active": extension.active,
        "return_mode": extension.return_mode,
        "min_credit": _money(extension.min_credit),
        "max_call_duration_seconds": extension.max_call_duration_seconds,
        "max_calls_per_callerid": extension.max_calls_per_callerid,
        "max_calls": extension.max_calls,
        "daily_limit": _money(extension.daily_limit),
        "created_at": _when(extension.created_at),
    }


def _callerid_body(callerid: AuthorizedCallerID, extension_number: str | None = None) -> dict:
    return {
        "id": callerid.pk,
        "extension": extension_number or callerid.extension.number,
        "number": callerid.number,
        "status": callerid.status,
        "status_reason": callerid.status_reason,
        "pin": callerid.has_pin,
        "unlimited": callerid.unlimited,
        "available": _money(callerid.available),
        "total": _money(callerid.total),
        "created_at": _when(callerid.created_at),
        "removed_at": _when(callerid.removed_at),
    }


def _recharge_body(entry: LedgerEntry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "amount": _money(entry.amount),
        "balance_after": _money(entry.balance_after),
        "order_number": entry.order_number,
        "added_by": entry.actor_username,
        "created_at": _when(entry.created_at),
    }


def _extension(request: HttpRequest, number: str) -> CallbackExtension:
    extension = extensions_for_token(request.auth).filter(number=number).first()
    if extension is None:
        raise _unknown_extension()
    return extension


def _callerid(request: HttpRequest, pk: int) -> AuthorizedCallerID:
    callerid = callerids_for_token(request.auth).filter(pk=pk).first()
    if callerid is None:
        raise _unknown_callerid()
    return callerid


# Endpoints


@router.get(
    "/extensions",
    response={200: ps.ExtensionPage, **READ_ERRORS},
    operation_id="list_extensions",
    summary="List the callback extensions in the token's scope",
)
def list_extensions(request: HttpRequest, page: Query[ps.PageQuery]):
    return _page(extensions_for_token(request.auth), page=page, body=_extension_body)


@router.get(
    "/extensions/{number}/callerids",
    response={200: ps.CallerIDPage, **READ_ERRORS},
    operation_id="list_callerids",
    summary="List an extension's CallerIDs (searched like the list page)",
)
def list_callerids(
    request: HttpRequest,
    number: Path[ExtensionNumber],
    search: Query[ps.CallerIDSearch],
    page: Query[ps.PageQuery],
):
    extension = _extension(request, number)
    search = CallerIDFilter(
        data={"q": search.q or "", "status": search.status or "", "credit": search.credit or ""},
        queryset=AuthorizedCallerID.objects.filter(extension=extension),
    )
    if not search.is_valid():
        raise ApiError(
            422,
            VALIDATION_FAILED,
            "The search is not valid.",
            {name: list(msgs) for name, msgs in search.errors.items()},
        )
    return _page(search.qs, page=page, body=lambda c: _callerid_body(c, extension.number))


@router.post(
    "/extensions/{number}/callerids",
    response={201: ps.BulkCreateResult, **WRITE_ERRORS},
    operation_id="create_callerids",
    summary=f"Add 1 to {API_MAX_ROWS} CallerIDs to an extension, all or none",
    openapi_extra=_body_examples(
        two_rows={
            "callerids": [
                {
                    "number": "0721 000 123",
                    "pin": "1234",
                    "initial_credit": "10.00",
                    "order_number": "WEB-1001",
                },
                {"number": "+40721000124", "unlimited": True},
            ]
        }
    ),
)
def create_callerids(
    request: HttpRequest,
    number: Path[ExtensionNumber],
    payload: ps.BulkCreateRequest,
    idempotency_key: str | None = KEY_HEADER,
):
    def write():
        extension = _extension(request, number)
        rows = [
            NewCallerID(
                number=row.number,
                pin=row.pin or "",
                credit=row.initial_credit,
                unlimited=row.unlimited,
                order_number=row.order_number or "",
            )
            for row in payload.callerids
        ]
        result = _service(
            lambda: callerid_services.add_callerids(
                actor=_actor(request), extension=extension, rows=rows, max_rows=API_MAX_ROWS
            ),
            not_found=_unknown_extension,
        )
        return 201, {"callerids": [_callerid_body(c, extension.number) for c in result.callerids]}

    return run_write(request, write)


@router.get(
    "/callerids/{callerid_id}",
    response={200: ps.CallerID, **READ_ERRORS},
    operation_id="get_callerid",
    summary="Read one CallerID (removed ones too)",
)
def get_callerid(request: HttpRequest, callerid_id: Path[schemas.PathId]):
    return _callerid_body(_callerid(request, callerid_id))


def _null_refused(field: str) -> ApiError:
    return ApiError(422, VALIDATION_FAILED, f"{field} cannot be null.", {field: ["Not null."]})


@router.patch(
    "/callerids/{callerid_id}",
    response={200: ps.CallerID, **WRITE_ERRORS},
    operation_id="update_callerid",
    summary="Change a CallerID's number, PIN or status",
    openapi_extra=_body_examples(
        new_pin={"pin": "4321"},
        remove_pin={"pin": None},
        disable={"status": "disabled"},
        renumber={"number": "+40721000125"},
    ),
)
def update_callerid(
    request: HttpRequest,
    callerid_id: Path[schemas.PathId],
    payload: ps.CallerIDPatch,
    idempotency_key: str | None = KEY_HEADER,
):
    sent = payload.model_fields_set
    for field in ("number", "status"):
        if field in sent and getattr(payload, field) is None:
            raise _null_refused(field)

    def write():
        _service(
            lambda: callerid_services.edit_callerid(
                actor=_actor(request),
                callerid=callerid_id,
                number=payload.number if "number" in sent else None,
                pin=payload.pin if "pin" in sent and payload.pin is not None else None,
                remove_pin="pin" in sent and payload.pin is None,
                status=payload.status if "status" in sent else None,
            ),
            not_found=_unknown_callerid,
        )
        return 200, _callerid_body(_callerid(request, callerid_id))

    return run_write(request, write)


@router.delete(
    "/callerids/{callerid_id}",
    response={200: ps.CallerID, **WRITE_ERRORS},
    operation_id="remove_callerid",
    summary="Remove a CallerID (it leaves the list and the license; its history stays)",
)
def remove_callerid(
    request: HttpRequest,
    callerid_id: Path[schemas.PathId],
    idempotency_key: str | None = KEY_HEADER,
):
    def write():
        _service(
            lambda: callerid_services.remove_callerid(actor=_actor(request), callerid=callerid_id),
            not_found=_unknown_callerid,
        )
        return 200, _callerid_body(_callerid(request, callerid_id))

    return run_write(request, write)


@router.post(
    "/callerids/{callerid_id}/recharges",
    response={201: ps.RechargeResult, **WRITE_ERRORS},
    operation_id="recharge_callerid",
    summary="Add or remove credit, or set Unlimited (the credit page's rules)",
    openapi_extra=_body_examples(
        recharge={"amount": "10.00", "order_number": "WEB-1002"},
        remove_credit={"amount": "-2.50"},
        unlimited={"unlimited": True},
    ),
)
def recharge(
    request: HttpRequest,
    callerid_id: Path[schemas.PathId],
    payload: ps.RechargeRequest,
    idempotency_key: str | None = KEY_HEADER,
):
    def write():
        result = _service(
            lambda: add_credit(
                actor=_actor(request),
                callerid=callerid_id,
                amount=payload.amount,
                unlimited=payload.unlimited,
                order_number=payload.order_number or "",
            ),
            not_found=_unknown_callerid,
        )
        callerid = result.callerid
        return 201, {
            "recharge": _recharge_body(result.entry),
            "credit": {
                "unlimited": callerid.unlimited,
                "available": _money(callerid.available),
                "total": _money(callerid.total),
                "held": None if callerid.unlimited else _money(open_holds_of(callerid.pk).total),
                "currency": get_preferences().currency,
            },
        }

    return run_write(request, write)


@router.get(
    "/callerids/{callerid_id}/recharges",
    response={200: ps.RechargePage, **READ_ERRORS},
    operation_id="list_recharges",
    summary="A CallerID's recharge history (its ledger without calls), oldest first",
)
def list_recharges(
    request: HttpRequest,
    callerid_id: Path[schemas.PathId],
    page: Query[ps.PageQuery],
):
    callerid = _callerid(request, callerid_id)
    entries = LedgerEntry.objects.filter(callerid=callerid).exclude(kind=LedgerKind.CALL)
    return _page(entries, page=page, body=_recharge_body)
