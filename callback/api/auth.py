"""Bearer-token authentication: the only way into the API (no session, no cookie)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from callback.client_address import client_address
from callback.models import ApiToken
from callback.services.tokens import authenticate_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer cbm_<prefix>_<secret>`; request.auth becomes the ApiToken."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_token(token, address=client_address(request))
