"""Export of a CallerID's recharge history (SPEC §6, §8)."""

from __future__ import annotations

from callerids.scope import get_callerid_for_user
from credit.filters import RechargeHistoryFilter
from credit.models import HISTORY_TYPES, LedgerEntry, LedgerKind
from exports.cells import DATETIME, IF_NULL, MONEY, TEXT, Column
from exports.exporters import file_name_part
from exports.registry import register
from tenancy.exports import PanelExporter
from tenancy.preferences import get_preferences


def recharge_history(callerid):
    """Every ledger row of the CallerID except calls, newest first (ledger order reversed)."""
    return (
        LedgerEntry.objects.filter(callerid=callerid).exclude(kind=LedgerKind.CALL).order_by("-id")
    )


@register
class RechargeHistoryExporter(PanelExporter):
    identifier = "recharge_history"
    verbose_name = "Recharge history"
    filterset_class = RechargeHistoryFilter
    object_params = ("callerid",)
    csv_copy = True

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first (404 outside it), then the page's search.
        self.callerid = get_callerid_for_user(user, self.object_id("callerid"))
        self.queryset = self.filter(recharge_history(self.callerid))

    def columns(self) -> list[Column]:
        return [
            Column("Order Number", TEXT, "order_number", width=20, if_empty=None),
            Column("Type", TEXT, "kind", width=14, labels=HISTORY_TYPES),
            # Only Unlimited grants (set_unlimited, an Unlimited initial credit) lack an amount.
            Column("Credit Added", MONEY, "amount", unlimited_if=IF_NULL),
            Column("Credit Left", MONEY, "balance_after", unlimited_if=IF_NULL),
            Column("Date Added", DATETIME, "created_at", width=22),
            Column("Added by", TEXT, "actor_username", width=18, if_empty=None),
        ]

    def money_decimals(self) -> int:
        return get_preferences().decimals

    def file_stem(self) -> str:
        return f"recharge-history-{file_name_part(self.callerid.number)}"

    def sheet_title(self) -> str:
        return f"History {self.callerid.number}"


# The cost report's exporter lives beside its page; importing it here registers it at startup.
from credit import exports_cost  # noqa: E402, F401
