"""Every write on resellers, organizations and users (SPEC §2, issue 3).

Each service owns its transaction, writes one audit event in it, and raises DomainError
with a message a user can act on. Nothing that was ever used is deleted: a reseller with
organizations, users, API tokens or audit history, or an organization with callback
extensions, can only be deactivated.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from tenancy import selectors
from tenancy.audit import Actor, record, snapshot
from tenancy.models import Organization, Reseller, Role, UserProfile
from values.errors import DomainError

RESELLER_FIELDS = ["name", "active", "max_active_callerids", "may_grant_unlimited"]
ORGANIZATION_FIELDS = ["name", "active", "reseller"]
USER_FIELDS = ["username", "is_active", "role", "reseller"]


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError({"name": f"Enter the {what}'s name."})
    if len(name) > 100:
        raise DomainError({"name": f"A {what}'s name has at most 100 characters."})
    return name


def check_reseller_name_free(name: str, *, exclude_pk=None) -> None:
    clash = Reseller.objects.filter(name__iexact=name).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise DomainError(
            {
                "name": f'A reseller named "{clash.name}" already exists '
                "(names are compared ignoring case)."
            }
        )


@contextmanager
def _name_taken_is_domain_error(message: str, field: str = "name"):
    """Two requests may pass the name check at once; the unique constraint decides, and
    the loser gets the same clear message instead of a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise DomainError({field: message}) from None


# Resellers: their events carry reseller=None, so their own history never blocks a delete;
# events about objects under a reseller carry it, and then it can only be deactivated.


def create_reseller(
    *,
    actor: Actor,
    name: str,
    max_active_callerids: int | None = None,
    may_grant_unlimited: bool = False,
    active: bool = True,
) -> Reseller:
    """Create a reseller. Raises DomainError when the name is empty or taken (any case)."""
    name = _clean_name(name, "reseller")
    with transaction.atomic():
        check_reseller_name_free(name)
        with _name_taken_is_domain_error(f'A reseller named "{name}" already exists.'):
            reseller = Reseller.objects.create(
                name=name,
                max_active_callerids=max_active_callerids,
                may_grant_unlimited=may_grant_unlimited,
                active=active,
            )
        record(
            actor=actor,
            action="reseller.create",
            obj=reseller,
            after=snapshot(reseller, RESELLER_FIELDS),
        )
    return reseller


def update_reseller(
    *,
    actor: Actor,
    reseller: Reseller,
    name: str,
    active: bool,
    max_active_callerids: int | None,
    may_grant_unlimited: bool,
) -> Reseller:
    """Change a reseller's name, active flag, share of the license and Unlimited right.

    A share below its current active count is allowed: existing CallerIDs stay enabled,
    only new activations are refused. Raises DomainError for an empty or taken name.
    """
    name = _clean_name(name, "reseller")
    with transaction.atomic():
        # Locked so two admins editing at once are applied one after the other.
        reseller = Reseller.objects.select_for_update().get(pk=reseller.pk)
        check_reseller_name_free(name, exclude_pk=reseller.pk)
        before = snapshot(reseller, RESELLER_FIELDS)
        reseller.name = name
        reseller.active = active
        reseller.max_active_callerids = max_active_callerids
        reseller.may_grant_unlimited = may_grant_unlimited
        with _name_taken_is_domain_error(f'A reseller named "{name}" already exists.'):
            reseller.save(update_fields=[*RESELLER_FIELDS])
        after = snapshot(reseller, RESELLER_FIELDS)
        if after != before:
            record(actor=actor, action="reseller.update", obj=reseller, before=before, after=after)
    return reseller


def set_reseller_active(*, actor: Actor, reseller: Reseller, active: bool) -> Reseller:
    """Deactivate or reactivate a reseller (its data stays)."""
    return update_reseller(
        actor=actor,
        reseller=reseller,
        name=reseller.name,
        active=active,
        max_active_callerids=reseller.max_active_callerids,
        may_grant_unlimited=reseller.may_grant_unlimited,
    )


def delete_reseller(*, actor: Actor, reseller: Reseller) -> None:
    """Delete a reseller that never had anything under it; else raise DomainError."""
    with transaction.atomic():
        reseller = Reseller.objects.select_for_update().get(pk=reseller.pk)
        reasons = selectors.reseller_usage(reseller)
        if reasons:
            raise DomainError(
                f'Reseller "{reseller.name}" cannot be deleted: it has {", ".join(reasons)}. '
                "Deactivate it instead."
            )
        record(
            actor=actor,
            action="reseller.delete",
            obj=reseller,
            before=snapshot(reseller, RESELLER_FIELDS),
        )
        try:
            with transaction.atomic():
                reseller.delete()
        except ProtectedError:
            raise DomainError(
                f'Reseller "{reseller.name}" is in use and cannot be deleted. '
                "Deactivate it instead."
            ) from None


# Organizations


def _check_organization_name_free(reseller: Reseller, name: str, *, exclude_pk=None) -> None:
    clash = (
        Organization.objects.filter(reseller=reseller, name__iexact=name)
        .exclude(pk=exclude_pk)
        .first()
    )
    if clash is not None:
        raise DomainError(
            {"name": f'Reseller "{reseller.name}" already has an organization "{clash.name}".'}
        )


def create_organization(
    *, actor: Actor, reseller: Reseller, name: str, active: bool = True
) -> Organization:
    """Create an organization under a reseller. The caller has checked the reseller is in
    the actor's scope. Raises DomainError for an empty or duplicate name."""
    name = _clean_name(name, "organization")
    with transaction.atomic():
        _check_organization_name_free(reseller, name)
        with _name_taken_is_domain_error(f'Reseller "{reseller.name}" already has "{name}".'):
            organization = Organization.objects.create(reseller=reseller, name=name, active=active)
        record(
            actor=actor,
            action="organization.create",
            obj=organization,
            after=snapshot(organization, ORGANIZATION_FIELDS),
            reseller=reseller,
        )
    return organization


def update_organization(
    *, actor: Actor, organization: Organization, name: str, active: bool
) -> Organization:
    """Rename, deactivate or reactivate an organization (it never changes reseller)."""
    name = _clean_name(name, "organization")
    with transaction.atomic():
        # Locked so concurrent edits of the same organization apply one after the other.
        organization = (
            Organization.objects.select_for_update()
            .select_related("reseller")
            .get(pk=organization.pk)
        )
        _check_organization_name_free(organization.reseller, name, exclude_pk=organization.pk)
        before = snapshot(organization, ORGANIZATION_FIELDS)
        organization.name = name
        organization.active = active
        with _name_taken_is_domain_error(
            f'Reseller "{organization.reseller.name}" already has "{name}".'
        ):
            organization.save(update_fields=["name", "active"])
        after = snapshot(organization, ORGANIZATION_FIELDS)
        if after != before:
            record(
                actor=actor,
                action="organization.update",
                obj=organization,
                before=before,
                after=after,
                reseller=organization.reseller,
            )
    return organization


def set_organization_active(
    *, actor: Actor, organization: Organization, active: bool
) -> Organization:
    return update_organization(
        actor=actor, organization=organization, name=organization.name, active=active
    )


def delete_organization(*, actor: Actor, organization: Organization) -> None:
    """Delete an organization that never had a callback extension; else raise DomainError."""
    with transaction.atomic():
        organization = (
            Organization.objects.select_for_update()
            .select_related("reseller")
            .get(pk=organization.pk)
        )
        reasons = selectors.organization_usage(organization)
        if reasons:
            raise DomainError(
                f'Organization "{organization.name}" cannot be deleted: it has '
                f"{', '.join(reasons)}. Deactivate it instead."
            )
        record(
            actor=actor,
            action="organization.delete",
            obj=organization,
            before=snapshot(organization, ORGANIZATION_FIELDS),
            reseller=organization.reseller,
        )
        try:
            with transaction.atomic():
                organization.delete()
        except ProtectedError:
            raise DomainError(
                f'Organization "{organization.name}" is in use and cannot be deleted. '
                "Deactivate it instead."
            ) from None


# Users


def check_binding(role: str, reseller: Reseller | None) -> None:
    """The role/binding rule of SPEC §2; raises DomainError naming what is wrong."""
    if role not in Role.values:
        raise DomainError({"role": f'Unknown role "{role}": use admin, reseller or staff.'})
    if role == Role.RESELLER and reseller is None:
        raise DomainError(
            {"reseller": "A user with the reseller role must be bound to a reseller."}
        )
    if role == Role.ADMIN and reseller is not None:
        raise DomainError(
            {"reseller": "An administrator manages the whole server: do not choose a reseller."}
        )


def _user_snapshot(user) -> dict:
    profile = getattr(user, "profile", None)
    return {
        "username": user.username,
        "is_active": user.is_active,
        "role": profile.role if profile else "",
        "reseller": profile.reseller_id if profile else None,
    }


def _check_password(password: str, user) -> None:
    if not password:
        raise DomainError({"password": "Enter a password."})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError({"password": exc.messages}) from None


def create_user(
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    reseller: Reseller | None = None,
    email: str = "",
) -> object:
    """Create a user with one role and its binding.

    Requires: reseller for the reseller role, none for admin, optional for staff. Raises
    DomainError for a taken username (any case), a bad binding or a weak password. The
    password is never written to the audit log, only "changed".
    """
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise DomainError({"username": "Enter a username."})
    if len(username) > 150:
        raise DomainError({"username": "A username has at most 150 characters."})
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise DomainError({"username": exc.messages}) from None
    check_binding(role, reseller)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise DomainError({"username": f'A user named "{username}" already exists.'})
        user = User(username=username, email=email or "")
        _check_password(password, user)
        user.set_password(password)
        with _name_taken_is_domain_error(f'A user named "{username}" already exists.', "username"):
            user.save()
        UserProfile.objects.create(user=user, role=role, reseller=reseller)
        after = _user_snapshot(user)
        after["password"] = "changed"
        record(
            actor=actor,
            action="user.create",
            obj=user,
            after=after,
            reseller=reseller,
        )
    return user


def update_user(
    *, actor: Actor, user, role: str, reseller: Reseller | None, is_active: bool
) -> object:
    """Change a user's role, binding and active flag (a user without profile gets one).

    Raises DomainError for a bad binding, or when an administrator would demote or
    deactivate their own account (so the server never loses its last way in by mistake).
    """
    User = get_user_model()
    check_binding(role, reseller)
    with transaction.atomic():
        # Locked so two admins changing the same user apply one after the other.
        user = User.objects.select_for_update().get(pk=user.pk)
        profile = UserProfile.objects.select_for_update().filter(user=user).first()
        before = _user_snapshot(user)
        if actor.user is not None and actor.user.pk == user.pk:
            if not is_active:
                raise DomainError("You cannot deactivate your own account.")
            if profile is not None and profile.role == Role.ADMIN and role != Role.ADMIN:
                raise DomainError("You cannot take the administrator role from yourself.")
        if profile is None:
            profile = UserProfile(user=user)
        profile.role = role
        profile.reseller = reseller
        profile.save()
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        user.profile = profile
        after = _user_snapshot(user)
        if after != before:
            record(
                actor=actor,
                action="user.update",
                obj=user,
                before=before,
                after=after,
                reseller=reseller,
            )
    return user


def set_user_active(*, actor: Actor, user, is_active: bool) -> object:
    """Deactivate (no more logins, history kept) or reactivate a user, with or without role.
    Raises DomainError when an administrator would deactivate their own account."""
    User = get_user_model()
    if not is_active and actor.user is not None and actor.user.pk == user.pk:
        raise DomainError("You cannot deactivate your own account.")
    with transaction.atomic():
        # Locked so a concurrent role change and this flag change do not overwrite each other.
        user = User.objects.select_for_update().get(pk=user.pk)
        profile = UserProfile.objects.filter(user=user).first()
        before = _user_snapshot(user)
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        after = _user_snapshot(user)
        if after != before:
            record(
                actor=actor,
                action="user.activate" if is_active else "user.deactivate",
                obj=user,
                before=before,
                after=after,
                reseller=profile.reseller if profile else None,
            )
    return user


def set_user_password(*, actor: Actor, user, password: str) -> None:
    """Set a new password: an admin's reset, or the user's own change (the audit action
    says which). Raises DomainError for a weak password. The audit event says only that
    the password changed."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _check_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        profile = UserProfile.objects.filter(user=user).first()
        record(
            actor=actor,
            action="user.password_change"
            if actor.user is not None and actor.user.pk == user.pk
            else "user.password_reset",
            obj=user,
            after={"password": "changed"},
            reseller=profile.reseller if profile else None,
        )
