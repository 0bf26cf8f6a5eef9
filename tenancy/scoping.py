"""What a user, an API token or a service's actor may see and change: the one module of
actor scope. Every view, export, service and API call uses it.

Rules (SPEC §1, §2):
- admin: everything; reseller: its own reseller's objects, read and write;
- staff: read-only, bound to one reseller or to the whole server;
- anything else (no role, inactive): nothing;
- a token (the PBX): its reseller's objects, or the whole server;
- the system actor (no user, no token: management commands, seed_demo): the whole server.
Objects outside the scope answer 404 (so ids of others reveal nothing); a forbidden
action on a visible object answers 403. Each app names the path from its rows to their
reseller (callback.scope, callerids.scope, credit.selectors.calls_for) and filters with
by_reseller / for_token / for_actor.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent, Organization, Reseller, Role, UserProfile


def _loaded_profile(user) -> UserProfile | None:
    """The user's profile with its reseller, fetched in one query and cached on the user."""
    relation = UserProfile._meta.get_field("user").remote_field
    if relation.is_cached(user):
        return relation.get_cached_value(user)
    profile = UserProfile.objects.select_related("reseller").filter(user_id=user.pk).first()
    relation.set_cached_value(user, profile)
    return profile


def profile_of(user) -> UserProfile | None:
    """The profile that gives the user a role, or None when the user may use nothing: not
    logged in, inactive, without a profile, or bound to an inactive reseller (SPEC §3:
    everything under an inactive reseller is refused, its users' panel included)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    profile = _loaded_profile(user)
    if profile is None:
        return None
    if profile.reseller_id is not None and not profile.reseller.active:
        return None
    return profile


def no_access_reason(user) -> str:
    """Why a logged-in user has no role in the panel, in words they can act on."""
    if user is not None and user.is_authenticated and user.is_active:
        profile = _loaded_profile(user)
        if profile is not None and profile.reseller_id is not None and not profile.reseller.active:
            return (
                f'Your reseller "{profile.reseller.name}" is inactive, so its users cannot use '
                "the Callback Manager. Ask an administrator to reactivate it."
            )
    return "Your account has no role in the Callback Manager. Ask an administrator to give it one."


def role_of(user) -> str | None:
    profile = profile_of(user)
    return profile.role if profile else None


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def can_write(user) -> bool:
    """Admins and resellers change things; staff only look."""
    return role_of(user) in (Role.ADMIN, Role.RESELLER)


def is_server_wide(user) -> bool:
    """Admins and server-wide staff see the whole server."""
    profile = profile_of(user)
    return profile is not None and profile.reseller_id is None and profile.role != Role.RESELLER


def reseller_id_of(user) -> int | None:
    profile = profile_of(user)
    return profile.reseller_id if profile else None


def reseller_of(user) -> Reseller | None:
    profile = profile_of(user)
    return profile.reseller if profile and profile.reseller_id else None


UNLIMITED_REFUSED = "You may not grant Unlimited credit."


def grants_unlimited(*, writes: bool, reseller: Reseller | None) -> bool:
    """Who may grant Unlimited credit (SPEC §2), the one rule: whoever writes for the whole
    server (admins, the system, a server-wide provisioning token); whoever writes for a
    reseller (its users, its provisioning token) when that reseller may; nobody else.

    `reseller`: the row the actor is bound to, None for the whole server.
    """
    return writes and (reseller is None or reseller.may_grant_unlimited)


def may_grant_unlimited(user, *, reseller: Reseller | None = None) -> bool:
    """grants_unlimited for a user. `reseller`: a freshly read (locked) row of the user's
    own reseller, to read the permission from instead of the profile cached on the user."""
    profile = profile_of(user)
    if profile is None:
        return False
    bound = None if profile.reseller_id is None else (reseller or profile.reseller)
    return grants_unlimited(writes=can_write(user), reseller=bound)


def require_role(user) -> None:
    if role_of(user) is None:
        raise PermissionDenied(no_access_reason(user))


def require_write(user) -> None:
    if not can_write(user):
        require_role(user)
        raise PermissionDenied("Your role is read-only.")


def require_admin(user) -> None:
    if not is_admin(user):
        require_role(user)
        raise PermissionDenied("Only administrators may do this.")


def by_reseller(user, qs: QuerySet, path: str) -> QuerySet:
    """Filter qs to the user's scope; `path` leads from the model to its reseller id."""
    profile = profile_of(user)
    if profile is None:
        return qs.none()
    if profile.reseller_id is None:
        return qs if profile.role in (Role.ADMIN, Role.STAFF) else qs.none()
    return qs.filter(**{path: profile.reseller_id})


def resellers_for(user) -> QuerySet[Reseller]:
    return by_reseller(user, Reseller.objects.all(), "id")


def organizations_for(user) -> QuerySet[Organization]:
    return by_reseller(user, Organization.objects.select_related("reseller"), "reseller_id")


def audit_events_for(user) -> QuerySet[AuditEvent]:
    if not is_admin(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor", "actor_token")


def get_or_404(qs: QuerySet, **lookup):
    """One object from an already scoped queryset, or 404."""
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found") from None


def get_organization_for_user(user, pk, *, write: bool = False) -> Organization:
    organization = get_or_404(organizations_for(user), pk=pk)
    if write:
        require_write(user)
    return organization


# Tenancy pages (issue 3): resellers and users are managed by administrators only.


def get_reseller_for_user(user, pk, *, write: bool = False) -> Reseller:
    """The reseller if the user may see it (else 404); with write, 403 unless admin."""
    reseller = get_or_404(resellers_for(user), pk=pk)
    if write:
        require_admin(user)
    return reseller


def get_user_for_admin(user, pk):
    """A user account to manage: 403 for anyone but an admin, then 404 if unknown."""
    require_admin(user)
    return get_or_404(get_user_model().objects.select_related("profile__reseller"), pk=pk)


def writable_resellers_for(user) -> QuerySet[Reseller]:
    """Resellers the user may create organizations under: all for admins, its own for a
    reseller, none for read-only roles (so a posted id outside it is refused)."""
    if not can_write(user):
        return Reseller.objects.none()
    return resellers_for(user)


# Any scoped model: `path` leads from the model to its reseller id (e.g.
# "extension__organization__reseller_id"); each app names its own (callback.scope,
# callerids.scope, credit.selectors.calls_for).


def for_token(token: ApiToken, qs: QuerySet, path: str) -> QuerySet:
    """The PBX: a token sees the whole server or one reseller's objects."""
    if token.reseller_id is not None:
        qs = qs.filter(**{path: token.reseller_id})
    return qs


def for_actor(actor: Actor, qs: QuerySet, path: str) -> QuerySet:
    """What a service's actor may see: a user's scope, a token's, or (the system actor:
    management commands, seed_demo) the whole server."""
    if actor.user is not None:
        return by_reseller(actor.user, qs, path)
    if actor.token is not None:
        return for_token(actor.token, qs, path)
    return qs


# Who a service acts for: services check again what views already scoped, because bulk
# operations receive id lists from a form, and a service must never act outside its
# actor's scope. A user actor: the rules above; a token actor (the PBX): its reseller, or
# the whole server; the system actor: the whole server.


def is_system(actor: Actor) -> bool:
    return actor.user is None and actor.token is None


def require_actor_write(actor: Actor) -> None:
    """PermissionDenied for read-only roles (and users without a role)."""
    if actor.user is not None:
        require_write(actor.user)


def actor_may_grant_unlimited(actor: Actor) -> bool:
    """Admins, and users of resellers allowed to; the system actor; a provisioning token
    of the whole server, or of a reseller allowed to (like that reseller's users); never
    a token without the provisioning permission (the PBX grants nothing)."""
    if actor.user is not None:
        return may_grant_unlimited(actor.user)
    if actor.token is None:
        return grants_unlimited(writes=True, reseller=None)
    reseller = None
    if actor.token.reseller_id is not None:
        reseller = Reseller.objects.filter(pk=actor.token.reseller_id).first()
        if reseller is None:
            return False
    return grants_unlimited(writes=actor.token.may_provision, reseller=reseller)


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
