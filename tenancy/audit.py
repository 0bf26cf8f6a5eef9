"""The audit log: one function every service calls (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from tenancy.client_address import client_address
from tenancy.models import AuditEvent

# Values of these fields are never stored: only the word "changed" when they change.
SECRET_FIELDS = frozenset({"pin", "pin_hash", "pin_salt", "password", "secret", "secret_sha256"})


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user (web) or an API token (PBX), and from which address."""

    user: Any = None
    token: Any = None
    address: str | None = None

    @classmethod
    def from_request(cls, request) -> Actor:
        user = (
            request.user
            if getattr(request, "user", None) and request.user.is_authenticated
            else None
        )
        return cls(user=user, address=client_address(request))

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.token is not None:
            return f"token:{self.token.name}"
        return "system"


SYSTEM = Actor()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _masked(values: dict | None, other: dict | None) -> dict | None:
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        if key in SECRET_FIELDS:
            changed = other is None or other.get(key) != value
            out[key] = (
                "changed" if changed and value not in (None, "") else ("set" if value else "")
            )
        else:
            out[key] = _plain(value)
    return out


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """The named fields of obj, ready to be passed as before/after."""
    return {name: getattr(obj, name) for name in fields}


def record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reseller=None,
    object_repr: str | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction.

    Secret fields (PINs, passwords, token secrets) are written only as "changed".
    """
    event = event_for(
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=after,
        reseller=reseller,
        object_repr=object_repr,
    )
    event.save(force_insert=True)
    return event


def event_for(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reseller=None,
    object_repr: str | None = None,
) -> AuditEvent:
    """The audit event record() writes, unsaved: for services that write many at once
    (AuditEvent.objects.bulk_create), inside their transaction."""
    return AuditEvent(
        actor=actor.user,
        actor_token=actor.token,
        actor_label=actor.label,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr if object_repr is not None else str(obj) if obj else "")[:200],
        reseller=reseller,
        address=actor.address,
        before=_masked(before, after),
        after=_masked(after, before),
    )
