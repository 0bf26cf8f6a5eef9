"""The Django admin: a repair tool for superusers only (SPEC §2).

Every model is view-only here: a change made in this admin would skip the services, so
the rules they check and the audit log they write (README: "every change is audited").
The application's pages make every change; nothing is deleted, they deactivate instead.
"""

from django.contrib import admin

from tenancy.models import ApiToken, AuditEvent, Organization, Reseller, UserProfile


def _superuser_only(request) -> bool:
    # The admin role of the application is not a Django superuser (SPEC §2); is_staff alone
    # must not open the admin either.
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superuser_only
admin.site.site_header = "Callback Manager repair tool"


class ViewOnlyAdmin(admin.ModelAdmin):
    """Looked at, never added, changed or deleted here: every change goes through the
    application's pages and services, which check the rules (license counters, scope,
    the currency lock) and write the audit log. Every field is shown read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude or ())
        return [field.name for field in self.model._meta.fields if field.name not in hidden]


@admin.register(Reseller)
class ResellerAdmin(ViewOnlyAdmin):
    list_display = ["name", "active", "max_active_callerids", "active_callerids"]
    list_filter = ["active", "may_grant_unlimited"]
    search_fields = ["name"]


@admin.register(Organization)
class OrganizationAdmin(ViewOnlyAdmin):
    list_display = ["name", "reseller", "active"]
    list_filter = ["active"]
    list_select_related = ["reseller"]
    search_fields = ["name", "reseller__name"]


@admin.register(UserProfile)
class UserProfileAdmin(ViewOnlyAdmin):
    list_display = ["user", "role", "reseller"]
    list_filter = ["role"]
    list_select_related = ["user", "reseller"]
    search_fields = ["user__username"]


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "object_repr"]


@admin.register(ApiToken)
class ApiTokenAdmin(ViewOnlyAdmin):
    list_display = ["name", "prefix", "reseller", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix"]
    exclude = ["secret_sha256"]
