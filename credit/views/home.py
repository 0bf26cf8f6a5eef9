"""The panel's home page (SPEC §14): it shows the credit totals of the user's scope."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from credit.selectors_home import panel_home
from tenancy import scoping
from tenancy.context_processors import NAVIGATION, _navigation
from tenancy.models import Role
from tenancy.preferences import get_preferences

# One line under each shortcut on the panel, by URL name (the navigation's own entries).
SHORTCUT_HELP = {
    "callback:extension_list": "Callback extensions, their authorized CallerIDs, credit and "
    "cost reports.",
    "tenancy:organization_list": "Organizations and the callback extensions under them.",
    "tenancy:reseller_list": "Resellers, their share of the license and whether they may "
    "grant Unlimited credit.",
    "tenancy:user_list": "Logins, their role and the reseller they are bound to.",
    "tenancy:token_list": "Tokens the PBX uses to call the API.",
    "tenancy:audit_list": "Every change: who, what, when and from which address.",
    "callerids:license": "The maximum number of enabled authorized CallerIDs on the server.",
    "credit:charging": "Currency, decimals shown and the default country for phone numbers.",
}


def _shortcuts(items: list[dict]) -> list[dict]:
    """The navigation entries the user sees, each with its one-line help."""
    help_by_url = {
        reverse(name): SHORTCUT_HELP.get(name, "") for _label, name, _roles in NAVIGATION
    }
    return [{**item, "help": help_by_url.get(item["url"], "")} for item in items]


@require_safe
def home(request):
    """The panel home (SPEC §14): who you are and your access, then the state of the
    business in your scope (credit_home.panel_home: counters and bounded queries only),
    and shortcuts to the pages of your role."""
    user = request.user
    role = scoping.role_of(user)
    context = {"role": role, "reseller": scoping.reseller_of(user)}
    if role is None:
        context["no_access_reason"] = scoping.no_access_reason(user)
        return render(request, "credit/home.html", context)
    context["role_label"] = Role(role).label if role in Role.values else role
    context["can_write"] = scoping.can_write(user)
    context["server_wide"] = scoping.is_server_wide(user)
    context["shortcuts"] = _shortcuts(_navigation(role, ""))
    preferences = get_preferences()
    panel = panel_home(user)
    context |= {
        "panel": panel,
        "room": panel.room,
        "currency": preferences.currency,
        "charging_preferences": preferences,  # the {% money %} tag's
        "watch_url": reverse("credit:credit_watch"),
    }
    return render(request, "credit/home.html", context)
