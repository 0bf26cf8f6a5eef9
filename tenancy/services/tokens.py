"""API tokens for the PBX (SPEC §2, §9): create, revoke, and authenticate a presented token.

A token reads `cbm_<prefix>_<secret>`. The server keeps the prefix (to find the row) and the
SHA-256 of the secret (to check it); the secret itself is shown once and never stored. A
SHA-256 is enough here, unlike for passwords: the secret is 256 random bits, not something
a person chose, so there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tenancy.audit import Actor, record
from tenancy.models import ApiToken, Reseller, TokenPermission
from values.errors import DomainError

TOKEN_PREFIX = "cbm"
# Writing "last used" on every request would turn each PBX question into a write; once a
# minute per token is as precise as an operator needs.
LAST_USED_PRECISION = timedelta(minutes=1)
_PREFIX_RE = re.compile(r"^[0-9a-f]{1,16}$")
_DUMMY_SHA256 = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A created token and its full text, which exists only in this object."""

    token: ApiToken
    plaintext: str


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def create_token(
    *,
    actor: Actor,
    name: str,
    reseller: Reseller | None,
    permissions: Iterable[str] = (TokenPermission.PBX,),
) -> NewToken:
    """Create a token named `name` for the whole server (reseller None) or one reseller,
    allowed to call what `permissions` names ("pbx", "provisioning"; at least one).

    Returns the token and its plaintext `cbm_<prefix>_<secret>`, to be shown once. Raises
    DomainError for an empty name, no permission or an unknown one. Writes an
    `api_token.create` audit event.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError({"name": "Enter a name for the token."})
    permissions = set(permissions)
    unknown = permissions - set(TokenPermission.values)
    if unknown:
        raise DomainError({"permissions": f"Unknown permission: {', '.join(sorted(unknown))}."})
    if not permissions:
        raise DomainError({"permissions": "Choose at least one permission."})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        for _ in range(5):
            prefix = secrets.token_hex(4)
            try:
                # A savepoint: a (very unlikely) prefix collision retries with another one.
                with transaction.atomic():
                    token = ApiToken.objects.create(
                        name=name,
                        prefix=prefix,
                        secret_sha256=_sha256(secret),
                        reseller=reseller,
                        created_by=actor.user,
                        may_pbx=TokenPermission.PBX in permissions,
                        may_provision=TokenPermission.PROVISIONING in permissions,
                    )
                break
            except IntegrityError:
                continue
        else:
            raise DomainError("Could not create a token; try again.")
        record(
            actor=actor,
            action="api_token.create",
            obj=token,
            after={
                "name": token.name,
                "prefix": token.prefix,
                "reseller": reseller.name if reseller else "whole server",
                "permissions": token.permissions,
                "secret": "set",
            },
            reseller=reseller,
        )
    return NewToken(token=token, plaintext=f"{TOKEN_PREFIX}_{prefix}_{secret}")


def revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke `token`: it authenticates nothing from now on.

    Revoking an already revoked token changes nothing (a re-sent form does no harm) and
    writes no second event. Otherwise writes an `api_token.revoke` audit event.
    """
    with transaction.atomic():
        # The row lock makes two simultaneous revokes write one event, not two.
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="api_token.revoke",
            obj=locked,
            before={"revoked_at": None},
            after={"revoked_at": locked.revoked_at},
            reseller=locked.reseller,
        )
    return locked


def split_token(plaintext: str) -> tuple[str, str] | None:
    """(prefix, secret) of a `cbm_<prefix>_<secret>` text, or None when it has another shape."""
    parts = (plaintext or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _find_token(prefix: str) -> ApiToken | None:
    return ApiToken.objects.select_related("reseller").filter(prefix=prefix).first()


def authenticate_token(
    plaintext: str,
    *,
    address: str | None,
    find: Callable[[str], ApiToken | None] = _find_token,
) -> ApiToken | None:
    """The live token this text proves, or None (unknown, wrong secret, revoked).

    The secret is compared in constant time; an unknown prefix still costs one compare, so
    timing does not tell which prefixes exist. Records the last use (time and address) with
    one UPDATE, at most once a minute per token and address. `find` loads the token of a
    prefix (revoked ones included); the PBX API passes a cheaper lookup of the same row.
    """
    parts = split_token(plaintext)
    if parts is None:
        return None
    prefix, secret = parts
    token = find(prefix) if _PREFIX_RE.match(prefix) else None
    expected = token.secret_sha256 if token is not None else _DUMMY_SHA256
    if not hmac.compare_digest(_sha256(secret), expected) or token is None:
        return None
    if token.revoked_at is not None:
        return None
    _touch(token, address)
    return token


def _touch(token: ApiToken, address: str | None) -> None:
    now = timezone.now()
    stale = token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION
    if not stale and token.last_used_address == address:
        return
    # The same condition in the WHERE clause: of simultaneous requests, one writes.
    moved = (
        Q(last_used_address__isnull=False)
        if address is None
        else ~Q(last_used_address=address)  # on a nullable column this includes NULL
    )
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION) | moved
    ).update(last_used_at=now, last_used_address=address)
    token.last_used_at = now
    token.last_used_address = address
