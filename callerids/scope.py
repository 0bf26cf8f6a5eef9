"""The CallerIDs a user, a token or a service's actor may see, and the CallerID row lock
(the rules are tenancy.scoping's; this names the path from a CallerID to its reseller).

Must-know: lock_callerid (a service's actor) and lock_callerid_row (by id) lock the
CallerID's row only; run them inside the caller's transaction.atomic().
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from callerids.models import AuthorizedCallerID
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


def lock_callerid(actor: Actor, callerid) -> AuthorizedCallerID:
    """The CallerID row locked (FOR UPDATE of its own row only), with its extension,
    organization and reseller loaded; 404 out of scope, 403 for read-only roles.

    Must run inside the caller's transaction.atomic().
    """
    try:
        found = (
            scoped_callerids(actor).select_for_update(of=("self",)).get(pk=scoping.pk_of(callerid))
        )
    except AuthorizedCallerID.DoesNotExist:
        raise Http404("Not found") from None
    scoping.require_actor_write(actor)
    return found


def lock_callerid_row(pk: int) -> AuthorizedCallerID:
    """The CallerID row locked until the caller's transaction ends (must be inside atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_callerid_row must run inside transaction.atomic()")
    return AuthorizedCallerID.objects.select_for_update().get(pk=pk)
