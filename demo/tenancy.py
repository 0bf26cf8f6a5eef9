"""Demo resellers, organizations and users for `manage.py seed_demo` (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from credit.services.charging import update_charging_preferences
from tenancy.audit import SYSTEM
from tenancy.models import Organization, Reseller, Role
from tenancy.preferences import get_preferences
from tenancy.services.tenancy import create_organization, create_reseller, create_user

DEMO_PASSWORD = "demo-password-123"
# Numbers typed without a country prefix are read as Romanian ones (SPEC §5.4), so the
# demo's callers can be typed as "0720 000 101" as well as "+40720000101".
DEMO_COUNTRY = "RO"

# The README's first API example, word for word (tests/demo/test_readme_example.py
# compares the two and runs the README's copy against the demo data).
API_EXAMPLE = r"""curl -s -X POST {url}api/v1/callback/authorize \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{{"extension": "0003*001", "caller_id": "0720 000 101"}}'"""

RESELLERS = [
    # name, may grant Unlimited, maximum active CallerIDs, organizations
    ("Acme Telecom", True, 500, ["Acme Logistics", "Acme Retail"]),
    ("Blue Voice", False, 200, ["Blue Dental", "Blue Law Office"]),
]

USERS = [
    # username, role, reseller name (None: whole server)
    ("admin", Role.ADMIN, None),
    ("reseller-acme", Role.RESELLER, "Acme Telecom"),
    ("reseller-blue", Role.RESELLER, "Blue Voice"),
    ("staff-acme", Role.STAFF, "Acme Telecom"),
    ("staff-server", Role.STAFF, None),
]


def _set_default_country() -> None:
    preferences = get_preferences()
    if not preferences.default_country:
        update_charging_preferences(
            actor=SYSTEM,
            currency=preferences.currency,
            decimals=preferences.decimals,
            default_country=DEMO_COUNTRY,
        )


def seed(stdout) -> None:
    """Create what is missing (through the services, so it is audited) and print the logins."""
    _set_default_country()
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
