"""The audit log page (administrators only): browse, search by actor, action, object, dates."""

from __future__ import annotations

from django.urls import path

from callback import scoping, selectors
from callback.filters.tenancy import AuditFilter
from callback.tables.tenancy import AuditTable
from callback.views.tenancy import list_page


def audit_list(request):
    scoping.require_admin(request.user)
    return list_page(
        request,
        queryset=selectors.audit_list(request.user),
        filterset_class=AuditFilter,
        table_class=AuditTable,
        template="callback/audit_list.html",
    )


urlpatterns = [
    path("audit/", audit_list, name="audit_list"),
]
