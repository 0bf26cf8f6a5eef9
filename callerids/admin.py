"""Django admin for CallerIDs and the license (superusers only, see callback/admin.py).

A CallerID's status, credit and PIN are read-only here: they change only through the
services that keep the license counter and the ledger right (SPEC §2).
"""

from django.contrib import admin

from callerids.models import AuthorizedCallerID, License
from tenancy.admin import FixedParentAdmin, NoDeleteAdmin


@admin.register(License)
class LicenseAdmin(NoDeleteAdmin):
    list_display = ["__str__", "max_active_callerids", "active_callerids", "updated_at"]
    readonly_fields = ["active_callerids", "updated_at"]

    def has_add_permission(self, request):
        return False  # one row, created by callerids.selectors.get_license


@admin.register(AuthorizedCallerID)
class AuthorizedCallerIDAdmin(FixedParentAdmin):
    list_display = ["number", "extension", "status", "unlimited", "available", "created_at"]
    list_filter = ["status", "unlimited"]
    list_select_related = ["extension"]
    search_fields = ["number", "extension__number"]
    readonly_fields = [
        "status",
        "status_reason",
        "available",
        "total",
        "unlimited",
        "pin_salt",
        "pin_hash",
        "wrong_pin_count",
        "locked_after_pins",
        "created_at",
        "created_by",
        "removed_at",
    ]
    parent_field = "extension"

    def has_add_permission(self, request):
        # A new CallerID must go through the service that checks and counts the license.
        return False
