"""Bearer-token authentication: the only way into the API (no session, no cookie).

The rules are tenancy.services.tokens.authenticate_token's, applied by that function;
only the lookup differs: one prepared SELECT of the columns those rules read, because
every PBX request pays for it and the ORM's query building costs several times the query
(docs/api.md, "Performance"). tests/api/test_authentication.py holds both to the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest
from ninja.security import HttpBearer

from api.errors import NOT_PERMITTED, ApiError
from database.prepared import Statement
from database.tables import table
from tenancy.client_address import client_address
from tenancy.models import ApiToken, Reseller, TokenPermission
from tenancy.services import tokens

_WANTED = {
    "id",
    "name",
    "prefix",
    "secret_sha256",
    "reseller_id",
    "revoked_at",
    "last_used_at",
    "last_used_address",
    "may_pbx",
    "may_provision",
}
# In the model's field order, which Model.from_db expects for a partial row.
COLUMNS = tuple(f.attname for f in ApiToken._meta.concrete_fields if f.attname in _WANTED)
_DATETIMES = tuple(COLUMNS.index(name) for name in ("revoked_at", "last_used_at"))
_FIND_TOKEN = Statement(
    "find_token", f"SELECT {', '.join(COLUMNS)} FROM {table(ApiToken)} WHERE prefix = %s"
)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands a raw query the stored UTC time without its zone (the ORM adds it).
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def token_from_row(row) -> ApiToken:
    """An ApiToken from the values of COLUMNS, in that order (a raw query's row)."""
    values = list(row)
    for index in _DATETIMES:
        values[index] = _aware(values[index])
    return ApiToken.from_db(DEFAULT_DB_ALIAS, COLUMNS, values)


def _find(prefix: str) -> ApiToken | None:
    """The token with this prefix (revoked ones included), with only COLUMNS loaded."""
    row = _FIND_TOKEN.fetchone([prefix])
    return None if row is None else token_from_row(row)


def authenticate_token(plaintext: str, *, address: str | None) -> ApiToken | None:
    """The live token this text proves, or None: tokens.authenticate_token's rules, with the
    prepared lookup."""
    return tokens.authenticate_token(plaintext, address=address, find=_find)


class BearerToken(HttpBearer):
    """`Authorization: Bearer cbm_<prefix>_<secret>`; request.auth becomes the ApiToken.

    `permission`: what the token must be allowed (SPEC §13): a live token without it
    answers 403 `not_permitted` (raised here, so no endpoint can forget the check).
    """

    def __init__(self, permission: str = TokenPermission.PBX) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        request.api_permission = self.permission
        found = authenticate_token(token, address=client_address(request))
        if found is None:
            return None
        if self.permission not in found.permissions:
            raise ApiError(
                403,
                NOT_PERMITTED,
                f"This token does not have the “{self.permission}” permission.",
            )
        # Everything under an inactive reseller is refused (SPEC §3), its users' panel
        # included; so is its shop's token. (The PBX's questions answer "disabled".)
        if (
            self.permission == TokenPermission.PROVISIONING
            and found.reseller_id is not None
            and not Reseller.objects.filter(pk=found.reseller_id, active=True).exists()
        ):
            raise ApiError(
                403, NOT_PERMITTED, "This token's reseller is inactive: nothing can be changed."
            )
        return found
