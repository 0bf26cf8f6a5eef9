from django.conf import settings
from django.urls import reverse

from tenancy import scoping

# (label, url name, roles that see it). Entries whose page does not exist yet are skipped.
NAVIGATION = [
    ("Callback extensions", "callback:extension_list", {"admin", "reseller", "staff"}),
    ("Organizations", "tenancy:organization_list", {"admin", "reseller", "staff"}),
    ("Resellers", "tenancy:reseller_list", {"admin"}),
    ("Users", "tenancy:user_list", {"admin"}),
    ("API tokens", "tenancy:token_list", {"admin"}),
    ("Audit log", "tenancy:audit_list", {"admin"}),
    ("License", "callerids:license", {"admin"}),
    ("Charging", "credit:charging", {"admin"}),
    ("Destination rules", "callback:destination_rules", {"admin", "reseller"}),
    ("Notifications", "notifications:index", {"admin", "reseller"}),
]


def _navigation(role: str | None, current_path: str) -> list[dict]:
    items = []
    for label, name, roles in NAVIGATION:
        if role not in roles:
            continue
        url = reverse(name)
        items.append({"label": label, "url": url, "active": current_path.startswith(url)})
    return items


def panel(request):
    """What the layout needs: the role, the navigation, and the server time zone."""
    user = getattr(request, "user", None)
    role = scoping.role_of(user) if user is not None else None
    return {
        "panel_role": role,
        "panel_is_admin": role == "admin",
        "panel_can_write": role in ("admin", "reseller"),
        "panel_navigation": _navigation(role, request.path) if role else [],
        "server_time_zone": settings.TIME_ZONE,
    }
