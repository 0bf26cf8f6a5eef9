"""Who a service acts for: the actor's scope and rights, checked inside every service.

Views already scope what they show; services check again because bulk operations receive
id lists from a form, and a service must never act outside its actor's scope.

- A user actor: `callback.scoping` decides (objects out of scope are "not found", read-only
  roles get PermissionDenied).
- A token actor (the PBX): its reseller, or the whole server.
- The system actor (no user, no token: management commands, seed_demo): the whole server.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from callback import scoping
from callback.audit import Actor
from callback.models import CallbackExtension, Reseller
from callerids.models import AuthorizedCallerID
from callerids.selectors import lock_callerid


def is_system(actor: Actor) -> bool:
    return actor.user is None and actor.token is None


def require_write(actor: Actor) -> None:
    """PermissionDenied for read-only roles (and users without a role)."""
    if actor.user is not None:
        scoping.require_write(actor.user)


def may_grant_unlimited(actor: Actor) -> bool:
    """Admins, and users of resellers allowed to; the system actor; a provisioning token
    of the whole server, or of a reseller allowed to (like that reseller's users); never
    a token without the provisioning permission (the PBX grants nothing)."""
    if actor.user is not None:
        return scoping.may_grant_unlimited(actor.user)
    if actor.token is None:
        return scoping.grants_unlimited(writes=True, reseller=None)
    reseller = None
    if actor.token.reseller_id is not None:
        reseller = Reseller.objects.filter(pk=actor.token.reseller_id).first()
        if reseller is None:
            return False
    return scoping.grants_unlimited(writes=actor.token.may_provision, reseller=reseller)


def scoped_callerids(actor: Actor) -> QuerySet[AuthorizedCallerID]:
    if actor.user is not None:
        return scoping.callerids_for(actor.user)
    if actor.token is not None:
        return scoping.callerids_for_token(actor.token)
    return AuthorizedCallerID.objects.select_related("extension__organization__reseller")


def scoped_extensions(actor: Actor) -> QuerySet[CallbackExtension]:
    if actor.user is not None:
        return scoping.extensions_for(actor.user)
    if actor.token is not None:
        return scoping.extensions_for_token(actor.token)
    return CallbackExtension.objects.select_related("organization__reseller")


def pk_of(obj_or_pk) -> int:
    """The primary key of a model instance or of a raw id (404 for anything unusable)."""
    pk = getattr(obj_or_pk, "pk", obj_or_pk)
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404("Not found") from None


def clean_ids(ids: Iterable) -> list[int]:
    """Ids from a form, as ints; anything that is not an id is dropped (it matches nothing)."""
    out = set()
    for value in ids or ():
        try:
            out.add(int(getattr(value, "pk", value)))
        except (TypeError, ValueError):
            continue
    return sorted(out)


def get_extension(actor: Actor, extension) -> CallbackExtension:
    """The extension if the actor may change it: 404 out of scope, 403 for read-only roles."""
    try:
        found = scoped_extensions(actor).get(pk=pk_of(extension))
    except CallbackExtension.DoesNotExist:
        raise Http404("Not found") from None
    require_write(actor)
    return found


def locked_callerid(actor: Actor, callerid) -> AuthorizedCallerID:
    """callerids.selectors.lock_callerid within the actor's scope, with its extension,
    organization and reseller loaded; 404 out of scope, 403 for read-only roles.

    Must run inside the caller's transaction.atomic().
    """
    try:
        found = lock_callerid(pk_of(callerid), scope=scoped_callerids(actor))
    except AuthorizedCallerID.DoesNotExist:
        raise Http404("Not found") from None
    require_write(actor)
    return found
