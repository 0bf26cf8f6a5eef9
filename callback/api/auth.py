"""Bearer-token authentication: the only way into the API (no session, no cookie).

The rules are callback.services.tokens.authenticate_token's (the prefix finds the row, the
SHA-256 of the secret is compared in constant time, an unknown prefix still costs one
compare, a revoked token authenticates nothing, the last use is written at most once a
minute); only the lookup differs: one prepared SELECT of the columns those rules read, because
every PBX request pays for it and the ORM's query building costs several times the query
(docs/api.md, "Performance"). tests/api/test_authentication.py holds both to the rules.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest
from ninja.security import HttpBearer

from callback.client_address import client_address
from callback.models import ApiToken
from callback.prepared import Statement
from callback.services import tokens

_WANTED = {
    "id",
    "name",
    "prefix",
    "secret_sha256",
    "reseller_id",
    "revoked_at",
    "last_used_at",
    "last_used_address",
}
# In the model's field order, which Model.from_db expects for a partial row.
_COLUMNS = tuple(f.attname for f in ApiToken._meta.concrete_fields if f.attname in _WANTED)
_DATETIMES = tuple(_COLUMNS.index(name) for name in ("revoked_at", "last_used_at"))
_FIND_TOKEN = Statement(
    "find_token", f"SELECT {', '.join(_COLUMNS)} FROM callback_apitoken WHERE prefix = %s"
)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands a raw query the stored UTC time without its zone (the ORM adds it).
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _find(prefix: str) -> ApiToken | None:
    """The token with this prefix (revoked ones included), with only _COLUMNS loaded."""
    row = _FIND_TOKEN.fetchone([prefix])
    if row is None:
        return None
    values = list(row)
    for index in _DATETIMES:
        values[index] = _aware(values[index])
    return ApiToken.from_db(DEFAULT_DB_ALIAS, _COLUMNS, values)


def authenticate_token(plaintext: str, *, address: str | None) -> ApiToken | None:
    """The live token this text proves, or None (unknown, wrong secret, revoked)."""
    parts = tokens.split_token(plaintext)
    if parts is None:
        return None
    prefix, secret = parts
    token = _find(prefix) if tokens._PREFIX_RE.match(prefix) else None
    expected = token.secret_sha256 if token is not None else tokens._DUMMY_SHA256
    if not hmac.compare_digest(tokens._sha256(secret), expected) or token is None:
        return None
    if token.revoked_at is not None:
        return None
    tokens._touch(token, address)
    return token


class BearerToken(HttpBearer):
    """`Authorization: Bearer cbm_<prefix>_<secret>`; request.auth becomes the ApiToken."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_token(token, address=client_address(request))
