"""The callback extensions a user, a token or a service's actor may see (the rules are
tenancy.scoping's; this names the path from an extension to its reseller)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from callback.models import CallbackExtension
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.models import ApiToken

RESELLER_PATH = "organization__reseller_id"


def _extensions() -> QuerySet[CallbackExtension]:
    return CallbackExtension.objects.select_related("organization__reseller")


def extensions_for(user) -> QuerySet[CallbackExtension]:
    return scoping.by_reseller(user, _extensions(), RESELLER_PATH)


def extensions_for_token(token: ApiToken) -> QuerySet[CallbackExtension]:
    return scoping.for_token(token, _extensions(), RESELLER_PATH)


def scoped_extensions(actor: Actor) -> QuerySet[CallbackExtension]:
    return scoping.for_actor(actor, _extensions(), RESELLER_PATH)


def get_extension_for_user(user, pk, *, write: bool = False) -> CallbackExtension:
    """The extension if the user may see it (else 404); with write, 403 for read-only roles."""
    extension = scoping.get_or_404(extensions_for(user), pk=pk)
    if write:
        scoping.require_write(user)
    return extension


def get_extension(actor: Actor, extension) -> CallbackExtension:
    """The extension if the actor may change it: 404 out of scope, 403 for read-only roles."""
    try:
        found = scoped_extensions(actor).get(pk=scoping.pk_of(extension))
    except CallbackExtension.DoesNotExist:
        raise Http404("Not found") from None
    scoping.require_actor_write(actor)
    return found
