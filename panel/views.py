"""The web shell's own pages: login, the favicon and the health check."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from panel.methods import require_form


@method_decorator(login_not_required, name="dispatch")
@method_decorator(require_form, name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    """Login with throttling (django-axes locks a username+address after repeated failures)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_not_required
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon."""
    return redirect(static("favicon.svg"), permanent=True)


@login_not_required
@never_cache
@require_safe
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
