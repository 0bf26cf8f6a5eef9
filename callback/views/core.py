"""The panel's home page and the health check."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from callback import scoping
from callerids.selectors import get_license


def home(request):
    role = scoping.role_of(request.user)
    context = {"role": role, "license": None, "reseller": scoping.reseller_of(request.user)}
    if role is None:
        context["no_access_reason"] = scoping.no_access_reason(request.user)
    if role is not None and scoping.is_server_wide(request.user):
        context["license"] = get_license()
    return render(request, "home.html", context)


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
