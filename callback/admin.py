"""The Django admin of callback extensions and destination rules (see tenancy.admin)."""

from django.contrib import admin

from callback.models import CallbackExtension, DestinationRules
from tenancy.admin import FixedParentAdmin, ViewOnlyAdmin


@admin.register(CallbackExtension)
class CallbackExtensionAdmin(FixedParentAdmin):
    list_display = ["number", "name", "organization", "active"]
    list_filter = ["active", "return_mode"]
    list_select_related = ["organization"]
    search_fields = ["number", "name", "organization__name"]
    readonly_fields = ["created_at"]
    parent_field = "organization"


@admin.register(DestinationRules)
class DestinationRulesAdmin(ViewOnlyAdmin):
    """View-only: a change must be audited, so it goes through the destination-rules page."""

    list_display = ["__str__", "refuse_premium", "max_rate_per_minute", "updated_at"]
    list_select_related = ["reseller"]
