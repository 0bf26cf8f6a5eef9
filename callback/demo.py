"""Demo resellers, organizations and users for `manage.py seed_demo` (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from callback.audit import SYSTEM
from callback.models import Organization, Reseller, Role
from callback.services.server_settings import update_charging_preferences
from callback.services.tenancy import create_organization, create_reseller, create_user
from credit.selectors import get_preferences

DEMO_PASSWORD = "demo-password-123"

RESELLERS = [
    # name, may grant Unlimited, maximum active CallerIDs, organizations
    ("Acme Telecom", True, 500, ["Acme Logistics", "Acme Retail"]),
    ("Blue Voice", False, 200, ["Blue Dental", "Blue Law Office"]),
]

# The demo's numbers are Romanian (README's curl example: caller "0721 000 123").
DEMO_COUNTRY = "RO"

USERS = [
    # username, role, reseller name (None: whole server)
    ("admin", Role.ADMIN, None),
    ("reseller-acme", Role.RESELLER, "Acme Telecom"),
    ("reseller-blue", Role.RESELLER, "Blue Voice"),
    ("staff-acme", Role.STAFF, "Acme Telecom"),
    ("staff-server", Role.STAFF, None),
]


def _set_default_country(stdout) -> None:
    preferences = get_preferences()
    if preferences.default_country:
        return
    update_charging_preferences(
        actor=SYSTEM,
        currency=preferences.currency,
        decimals=preferences.decimals,
        default_country=DEMO_COUNTRY,
    )
    stdout.write(f"Default country for phone numbers: {DEMO_COUNTRY}.")


def seed(stdout) -> None:
    """Create what is missing (through the services, so it is audited) and print the logins."""
    _set_default_country(stdout)
    resellers = {}
    for name, unlimited, cap, organizations in RESELLERS:
        reseller = Reseller.objects.filter(name__iexact=name).first() or create_reseller(
            actor=SYSTEM, name=name, max_active_callerids=cap, may_grant_unlimited=unlimited
        )
        resellers[name] = reseller
        for org_name in organizations:
            if not Organization.objects.filter(reseller=reseller, name__iexact=org_name).exists():
                create_organization(actor=SYSTEM, reseller=reseller, name=org_name)
    User = get_user_model()
    stdout.write(f'Demo logins (password "{DEMO_PASSWORD}"):')
    for username, role, reseller_name in USERS:
        if not User.objects.filter(username__iexact=username).exists():
            create_user(
                actor=SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                reseller=resellers[reseller_name] if reseller_name else None,
            )
        scope = f"reseller {reseller_name}" if reseller_name else "whole server"
        stdout.write(f"  {username:<15} {role:<9} {scope}")
