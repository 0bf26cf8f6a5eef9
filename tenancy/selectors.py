"""Reads for resellers, organizations, users and the audit log, already scoped and joined.

Every list page calls one of these with the request's user; the scope comes from
tenancy.scoping, so a page cannot show more than the user may see.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet

from tenancy import scoping
from tenancy.models import AuditEvent, Organization, Reseller


def reseller_list(user) -> QuerySet[Reseller]:
    """Resellers the user may see, each with its number of organizations and users."""
    return scoping.resellers_for(user).annotate(
        organization_count=Count("organizations", distinct=True),
        user_count=Count("profiles", distinct=True),
    )


def organization_list(user) -> QuerySet[Organization]:
    """Organizations the user may see, with their reseller and number of callback extensions."""
    return scoping.organizations_for(user).annotate(extension_count=Count("extensions"))


def user_list(user) -> QuerySet:
    """Every user (admins only: others get an empty list), with role and binding joined."""
    users = get_user_model().objects.select_related("profile__reseller").order_by("username")
    return users if scoping.is_admin(user) else users.none()


def audit_list(user) -> QuerySet[AuditEvent]:
    return scoping.audit_events_for(user).select_related("reseller")


def reseller_usage(reseller: Reseller) -> list[str]:
    """What keeps a reseller from being deleted, in words; empty when it may be deleted."""
    reasons = []
    counts = Reseller.objects.filter(pk=reseller.pk).aggregate(
        organizations=Count("organizations", distinct=True),
        users=Count("profiles", distinct=True),
        tokens=Count("api_tokens", distinct=True),
        events=Count("audit_events", distinct=True),
    )
    for key, noun in (
        ("organizations", "organization(s)"),
        ("users", "user(s)"),
        ("tokens", "API token(s)"),
        ("events", "audit event(s) about its objects"),
    ):
        if counts[key]:
            reasons.append(f"{counts[key]} {noun}")
    return reasons


def organization_usage(organization: Organization) -> list[str]:
    """What keeps an organization from being deleted, in words; empty when it may be deleted."""
    count = organization.extensions.count()
    return [f"{count} callback extension(s)"] if count else []
