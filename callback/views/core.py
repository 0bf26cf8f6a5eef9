"""The panel's home page and the health check."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from callback import scoping
from callback.context_processors import NAVIGATION, _navigation
from callback.models import Role
from credit.selectors import get_preferences
from credit.selectors_home import panel_home

# One line under each shortcut on the panel, by URL name (the navigation's own entries).
SHORTCUT_HELP = {
    "callback:extension_list": "Callback extensions, their authorized CallerIDs, credit and "
    "cost reports.",
    "callback:organization_list": "Organizations and the callback extensions under them.",
    "callback:reseller_list": "Resellers, their share of the license and whether they may "
    "grant Unlimited credit.",
    "callback:user_list": "Logins, their role and the reseller they are bound to.",
    "callback:token_list": "Tokens the PBX uses to call the API.",
    "callback:audit_list": "Every change: who, what, when and from which address.",
    "callerids:license": "The maximum number of enabled authorized CallerIDs on the server.",
    "credit:charging": "Currency, decimals shown and the default country for phone numbers.",
}


def _shortcuts(items: list[dict]) -> list[dict]:
    """The navigation entries the user sees, each with its one-line help."""
    help_by_url = {
        reverse(name): SHORTCUT_HELP.get(name, "") for _label, name, _roles in NAVIGATION
    }
    return [{**item, "help": help_by_url.get(item["url"], "")} for item in items]


def home(request):
    """The panel home (SPEC §14): who you are and your access, then the state of the
    business in your scope (credit_home.panel_home: counters and bounded queries only),
    and shortcuts to the pages of your role."""
    user = request.user
    role = scoping.role_of(user)
    context = {"role": role, "reseller": scoping.reseller_of(user)}
    if role is None:
        context["no_access_reason"] = scoping.no_access_reason(user)
        return render(request, "home.html", context)
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
    return render(request, "home.html", context)


@login_not_required
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon."""
    return redirect(static("favicon.svg"), permanent=True)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 when the database answers and every migration is applied; 503 otherwise."""
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any database failure means "not healthy"; the body says which part
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse(
            {"status": "error", "database": "ok", "pending_migrations": len(pending)}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


urlpatterns: list = []  # home and healthz are mounted at the site root (settings/urls.py)
