"""The Django admin: a repair tool for superusers only (SPEC §2).

Rows that are history (audit events, API tokens) are view-only, and nothing that may
have history is deleted here: the application's pages deactivate instead.
"""

from django.contrib import admin

from tenancy.models import ApiToken, AuditEvent, Organization, Reseller, UserProfile


def _superuser_only(request) -> bool:
    # The admin role of the application is not a Django superuser (SPEC §2); is_staff alone
    # must not open the admin either.
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superuser_only
admin.site.site_header = "Callback Manager repair tool"


class NoDeleteAdmin(admin.ModelAdmin):
    """Objects that may have history are deactivated in the application, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(NoDeleteAdmin):
    """History: looked at, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reseller)
class ResellerAdmin(NoDeleteAdmin):
    list_display = ["name", "active", "max_active_callerids", "active_callerids"]
    list_filter = ["active", "may_grant_unlimited"]
    search_fields = ["name"]
    readonly_fields = ["active_callerids", "created_at"]


class FixedParentAdmin(NoDeleteAdmin):
    """The parent of an existing object cannot change here: moving it would carry its
    CallerIDs, calls and history to another reseller and leave the resellers' active-CallerID
    counters wrong. The application's pages check those rules; this form would not."""

    parent_field: str

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, self.parent_field] if obj is not None else fields


@admin.register(Organization)
class OrganizationAdmin(FixedParentAdmin):
    list_display = ["name", "reseller", "active"]
    list_filter = ["active"]
    list_select_related = ["reseller"]
    search_fields = ["name", "reseller__name"]
    readonly_fields = ["created_at"]
    parent_field = "reseller"


@admin.register(UserProfile)
class UserProfileAdmin(NoDeleteAdmin):
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
