"""Django admin for the ledger, calls and charging preferences (superusers only).

View-only like every model there (tenancy/admin.py): ledger rows, calls and holds are
history (SPEC §2); a stuck hold is released on the calls-in-progress page
(audited), the preferences change on the Charging page (audited).
"""

from django.contrib import admin

from credit.models import Call, CallHold, LedgerEntry
from tenancy.admin import ViewOnlyAdmin
from tenancy.models import ChargingPreferences


@admin.register(ChargingPreferences)
class ChargingPreferencesAdmin(ViewOnlyAdmin):
    list_display = ["currency", "decimals", "default_country", "updated_at"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "callerid", "kind", "amount", "balance_after", "actor_username"]
    list_filter = ["kind"]
    list_select_related = ["callerid"]
    search_fields = ["callerid__number", "order_number", "actor_username"]


@admin.register(Call)
class CallAdmin(ViewOnlyAdmin):
    list_display = ["call_id", "extension", "caller_id", "started_at", "cost", "charged"]
    list_select_related = ["extension"]
    search_fields = ["call_id", "caller_id", "destination"]


@admin.register(CallHold)
class CallHoldAdmin(ViewOnlyAdmin):
    list_display = ["call_id", "extension", "callerid", "status", "held", "started_at"]
    list_filter = ["status"]
    list_select_related = ["extension", "callerid"]
    search_fields = ["call_id", "destination"]
