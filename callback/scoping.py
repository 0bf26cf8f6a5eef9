"""What a user (or an API token) may see and change. Every view, export and API call uses it.

Rules (SPEC §1, §2):
- admin: everything; reseller: its own reseller's objects, read and write;
- staff: read-only, bound to one reseller or to the whole server;
- anything else (no role, inactive): nothing.
Objects outside the scope answer 404 (so ids of others reveal nothing); a forbidden
action on a visible object answers 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from callback.models import (
    ApiToken,
    AuditEvent,
    CallbackExtension,
    Organization,
    Reseller,
    Role,
    UserProfile,
)


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


def _by_reseller(user, qs: QuerySet, path: str) -> QuerySet:
    """Filter qs to the user's scope; `path` leads from the model to its reseller id."""
    profile = profile_of(user)
    if profile is None:
        return qs.none()
    if profile.reseller_id is None:
        return qs if profile.role in (Role.ADMIN, Role.STAFF) else qs.none()
    return qs.filter(**{path: profile.reseller_id})


def resellers_for(user) -> QuerySet[Reseller]:
    return _by_reseller(user, Reseller.objects.all(), "id")


def organizations_for(user) -> QuerySet[Organization]:
    return _by_reseller(user, Organization.objects.select_related("reseller"), "reseller_id")


def extensions_for(user) -> QuerySet[CallbackExtension]:
    return _by_reseller(
        user,
        CallbackExtension.objects.select_related("organization__reseller"),
        "organization__reseller_id",
    )


def callerids_for(user):
    from callerids.models import AuthorizedCallerID

    return _by_reseller(
        user,
        AuthorizedCallerID.objects.select_related("extension__organization__reseller"),
        "extension__organization__reseller_id",
    )


def calls_for(user):
    from credit.models import Call

    return _by_reseller(user, Call.objects.all(), "extension__organization__reseller_id")


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


def get_extension_for_user(user, pk, *, write: bool = False) -> CallbackExtension:
    """The extension if the user may see it (else 404); with write, 403 for read-only roles."""
    extension = get_or_404(extensions_for(user), pk=pk)
    if write:
        require_write(user)
    return extension


def get_callerid_for_user(user, pk, *, write: bool = False):
    callerid = get_or_404(callerids_for(user), pk=pk)
    if write:
        require_write(user)
    return callerid


def get_organization_for_user(user, pk, *, write: bool = False) -> Organization:
    organization = get_or_404(organizations_for(user), pk=pk)
    if write:
        require_write(user)
    return organization


# The PBX: a token sees the whole server or one reseller's objects.


def extensions_for_token(token: ApiToken) -> QuerySet[CallbackExtension]:
    qs = CallbackExtension.objects.select_related("organization__reseller")
    if token.reseller_id is not None:
        qs = qs.filter(organization__reseller_id=token.reseller_id)
    return qs


def callerids_for_token(token: ApiToken):
    from callerids.models import AuthorizedCallerID

    qs = AuthorizedCallerID.objects.select_related("extension__organization__reseller")
    if token.reseller_id is not None:
        qs = qs.filter(extension__organization__reseller_id=token.reseller_id)
    return qs


# Tenancy pages (issue 3): resellers and users are managed by administrators only.


def get_reseller_for_user(user, pk, *, write: bool = False) -> Reseller:
    """The reseller if the user may see it (else 404); with write, 403 unless admin."""
    reseller = get_or_404(resellers_for(user), pk=pk)
    if write:
        require_admin(user)
    return reseller


def get_user_for_admin(user, pk):
    """A user account to manage: 403 for anyone but an admin, then 404 if unknown."""
    from django.contrib.auth import get_user_model

    require_admin(user)
    return get_or_404(get_user_model().objects.select_related("profile__reseller"), pk=pk)


def writable_resellers_for(user) -> QuerySet[Reseller]:
    """Resellers the user may create organizations under: all for admins, its own for a
    reseller, none for read-only roles (so a posted id outside it is refused)."""
    if not can_write(user):
        return Reseller.objects.none()
    return resellers_for(user)
