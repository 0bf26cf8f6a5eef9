"""The Django admin of callback extensions and destination rules: view-only, like every
model's (tenancy.admin)."""

from django.contrib import admin

from callback.models import CallbackExtension, DestinationRules
from tenancy.admin import ViewOnlyAdmin


@admin.register(CallbackExtension)
class CallbackExtensionAdmin(ViewOnlyAdmin):
    list_display = ["number", "name", "organization", "active"]
    list_filter = ["active", "return_mode"]
    list_select_related = ["organization"]
    search_fields = ["number", "name", "organization__name"]


@admin.register(DestinationRules)
class DestinationRulesAdmin(ViewOnlyAdmin):
    list_display = ["__str__", "refuse_premium", "max_rate_per_minute", "updated_at"]
    list_select_related = ["reseller"]
