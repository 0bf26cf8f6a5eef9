"""The URL view of `POST /api/v1/callback/authorize`: a fast path in front of ninja's.

Authorize is the PBX's hottest question (every incoming call asks it), and most of its time
went to django-ninja's machinery around a two-line endpoint (its body model, pydantic's
validation of the request and of the response, the response's rendering) and to two
database round trips. This view answers the plain case itself: a POST of an
`application/json` object whose two fields are unmistakably valid, with a bearer token
that proves a live token allowed to ask (`pbx`): one round trip reads the token and the
decision together (authorize.authenticate_and_decide), and the answer is rendered as
ninja renders it.

Everything else goes to ninja's view, unchanged: another method, another content type, a
body that is not JSON or that the schema might refuse, a missing or unknown token, a
token without the permission. So every error keeps its status and body, byte for byte,
and the endpoint stays in the OpenAPI schema (routes.authorize is still the documented
operation). The fast path has no effect before it answers except what the token check
itself does (the last-use UPDATE, which ninja's path would do the same way); a request it
hands on is read again from the start. tests/api/test_authorize_fast_path.py holds both
paths to the same answers and the fast path's checks to the schema's.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.http import HttpRequest, HttpResponse

from api.authorize import authenticate_and_decide
from api.routes import _unknown_extension, api
from api.schemas import EXTENSION_MAX_LENGTH, _plain_text
from tenancy.client_address import client_address
from tenancy.models import TokenPermission

_BEARER = "bearer"


def _valid_text(value) -> bool:
    """A JSON string the schema's Text accepts (no NUL, encodable as UTF-8)."""
    if type(value) is not str:
        return False
    try:
        _plain_text(value)
    except ValueError:
        return False
    return True


def plain_fields(body: bytes) -> tuple[str, str | None] | None:
    """(extension, caller_id) of a body AuthorizeRequest certainly accepts as they are, or
    None when the body should go through the schema (it may be refused, or read otherwise).
    """
    try:
        data = json.loads(body, parse_float=Decimal)  # as routes.DecimalJSONParser reads it
    except Exception:  # not JSON, not UTF-8, nested too deep: ninja's path answers it
        return None
    if type(data) is not dict or "caller_id" not in data:
        return None
    extension, caller_id = data.get("extension"), data["caller_id"]
    if not _valid_text(extension) or len(extension) > EXTENSION_MAX_LENGTH:
        return None
    # The schema takes any string (or null) as caller_id; a string that is not valid
    # Unicode text is left to pydantic rather than guessed here.
    if caller_id is not None and not _valid_text(caller_id):
        return None
    return extension, caller_id


def _bearer_text(request: HttpRequest) -> str | None:
    """The token text of `Authorization: Bearer <token>`, read as ninja's HttpBearer does."""
    value = request.META.get("HTTP_AUTHORIZATION")
    if not value:
        return None
    parts = value.split(" ")
    if parts[0].lower() != _BEARER:
        return None
    return " ".join(parts[1:])


def fast_answer(request: HttpRequest) -> HttpResponse | None:
    """The answer of a plain authorize request, or None to hand the request to ninja."""
    if request.method != "POST" or request.content_type != "application/json":
        return None
    plaintext = _bearer_text(request)
    if plaintext is None:
        return None
    try:
        body = request.body
    except Exception:  # over the upload limit, unreadable: ninja's path answers it
        return None
    fields = plain_fields(body)
    if fields is None:
        return None
    extension, caller_id = fields
    token, answer = authenticate_and_decide(
        plaintext, address=client_address(request), extension_number=extension, caller_id=caller_id
    )
    if token is None or TokenPermission.PBX not in token.permissions:
        return None
    request.auth = token
    request.api_permission = TokenPermission.PBX
    if answer is None:
        return api.on_exception(request, _unknown_extension())
    return HttpResponse(
        api.renderer.render(request, answer, response_status=200),
        status=200,
        content_type=api.get_content_type(),
    )


def authorize_view(ninja_view):
    """The URL's view: the fast path, else ninja's own view for this path."""

    def view(request: HttpRequest, *args, **kwargs):
        answer = fast_answer(request)
        if answer is not None:
            return answer
        return ninja_view(request, *args, **kwargs)

    view.csrf_exempt = True  # as ninja's views: no cookie authenticates the API
    return view
