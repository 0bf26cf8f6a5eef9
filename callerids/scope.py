"""The CallerIDs a user, a token or a service's actor may see (the rules are
tenancy.scoping's; this names the path from a CallerID to its reseller), and the CallerID
lock within an actor's scope (the lock itself: callerids.selectors.lock_callerid)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from callerids.models import AuthorizedCallerID
from callerids.selectors import lock_callerid
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.models import ApiToken

RESELLER_PATH = "extension__organization__reseller_id"


def _callerids() -> QuerySet[AuthorizedCallerID]:
    return AuthorizedCallerID.objects.select_related("extension__organization__reseller")


def callerids_for(user) -> QuerySet[AuthorizedCallerID]:
    return scoping.by_reseller(user, _callerids(), RESELLER_PATH)


def callerids_for_token(token: ApiToken) -> QuerySet[AuthorizedCallerID]:
    return scoping.for_token(token, _callerids(), RESELLER_PATH)


def scoped_callerids(actor: Actor) -> QuerySet[AuthorizedCallerID]:
    return scoping.for_actor(actor, _callerids(), RESELLER_PATH)


def get_callerid_for_user(user, pk, *, write: bool = False):
    callerid = scoping.get_or_404(callerids_for(user), pk=pk)
    if write:
        scoping.require_write(user)
    return callerid


def locked_callerid(actor: Actor, callerid) -> AuthorizedCallerID:
    """callerids.selectors.lock_callerid within the actor's scope, with its extension,
    organization and reseller loaded; 404 out of scope, 403 for read-only roles.

    Must run inside the caller's transaction.atomic().
    """
    try:
        found = lock_callerid(scoping.pk_of(callerid), scope=scoped_callerids(actor))
    except AuthorizedCallerID.DoesNotExist:
        raise Http404("Not found") from None
    scoping.require_actor_write(actor)
    return found
