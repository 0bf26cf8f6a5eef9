"""The API's errors: always JSON `{"error": "<code>", "detail": "<human text>"}` (SPEC §9)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

MALFORMED = "malformed"
UNAUTHENTICATED = "unauthenticated"
UNKNOWN_EXTENSION = "unknown_extension"
UNKNOWN_CALLERID = "unknown_callerid"
CALL_ID_CONFLICT = "call_id_conflict"
# The provisioning API's (SPEC §13).
NOT_PERMITTED = "not_permitted"
VALIDATION_FAILED = "validation_failed"
LICENSE_EXCEEDED = "license_exceeded"
IDEMPOTENCY_CONFLICT = "idempotency_conflict"
# request.api_permission of the provisioning endpoints: their bad values answer 422
# validation_failed with per-field errors; the PBX's keep answering 400 malformed (§9).
PROVISIONING = "provisioning"

UNAUTHENTICATED_DETAIL = "Send the header Authorization: Bearer <token> with a live API token."


class ApiError(Exception):
    """An answer other than success; the handler below turns it into the JSON error."""

    def __init__(
        self, status: int, code: str, detail: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors


def error_body(code: str, detail: str, errors: dict[str, list[str]] | None = None) -> dict:
    body = {"error": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    detail: str,
    errors: dict[str, list[str]] | None = None,
):
    response = api.create_response(request, error_body(code, detail, errors), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _field(loc) -> str:
    # ninja prefixes locations with where the value came from ("body", "path") and the
    # parameter's name; the PBX only cares about the field.
    parts = [str(p) for p in loc if p not in ("body", "path", "query", "header", "payload")]
    return ".".join(parts) or "body"


def _by_field(errors: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(_field(error.get("loc", ())), []).append(error.get("msg", "invalid"))
    return out


def _describe(errors: list[dict]) -> str:
    shown = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    return "; ".join(shown) or "The request does not match the schema."


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default answers (422, {"detail": ...}) with the SPEC's errors."""

    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.detail, exc.errors)

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if getattr(request, "api_permission", None) == PROVISIONING:
            return error_response(
                api,
                request,
                422,
                VALIDATION_FAILED,
                _describe(exc.errors),
                _by_field(exc.errors),
            )
        # Missing fields and bad values are the PBX's mistake: 400, never ninja's 422.
        return error_response(api, request, 400, MALFORMED, _describe(exc.errors))

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, 401, UNAUTHENTICATED, UNAUTHENTICATED_DETAIL)

    def on_body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Django's own answer would be its HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The body is larger than {limit:,} bytes."
        return error_response(api, request, 413, MALFORMED, detail)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja raises HttpError(400) for a body its parser refused: not JSON, or the
        # parser's own ApiError (a body that is not application/json).
        if isinstance(exc.__cause__, ApiError):
            return on_api_error(request, exc.__cause__)
        if exc.status_code == 400:
            return error_response(api, request, 400, MALFORMED, "The body is not valid JSON.")
        if exc.status_code == 401:
            return error_response(api, request, 401, UNAUTHENTICATED, UNAUTHENTICATED_DETAIL)
        return error_response(api, request, exc.status_code, "error", str(exc))

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(RequestDataTooBig, on_body_too_big)
