"""Django admin for CallerIDs and the license (superusers only, view-only: see
callback/admin.py). A CallerID's status, credit and PIN change only through the services
that keep the license counter, the ledger and the audit log right (SPEC §2)."""

from django.contrib import admin

from callerids.models import AuthorizedCallerID, License, SubmissionKey
from tenancy.admin import ViewOnlyAdmin


@admin.register(License)
class LicenseAdmin(ViewOnlyAdmin):
    list_display = ["__str__", "max_active_callerids", "active_callerids", "updated_at"]


@admin.register(AuthorizedCallerID)
class AuthorizedCallerIDAdmin(ViewOnlyAdmin):
    list_display = ["number", "extension", "status", "unlimited", "available", "created_at"]
    list_filter = ["status", "unlimited"]
    list_select_related = ["extension"]
    search_fields = ["number", "extension__number"]


@admin.register(SubmissionKey)
class SubmissionKeyAdmin(ViewOnlyAdmin):
    """Used form keys (a form posted twice saves once): history, view-only."""

    list_display = ["key", "action", "user", "created_at"]
