"""Export of a CallerID's recharge history (SPEC §6, §8)."""

from __future__ import annotations

from callerids.scope import get_callerid_for_user
from credit.filters import RechargeHistoryFilter
from credit.models import HISTORY_TYPES, LedgerEntry, LedgerKind
from exports.cells import DATETIME, MONEY, TEXT, UNLIMITED, Column
from exports.exporters import file_name_part
from exports.registry import register
from exports.renderers.csv_copy import CopyColumn, CopySource
from tenancy.exports import ScopedExporter


def _type_sql(expr: str) -> str:
    """SQL naming a ledger kind as HISTORY_TYPES does (the labels are the code's own
    constants; quotes doubled all the same)."""

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    cases = " ".join(
        f"WHEN {literal(kind)} THEN {literal(label)}" for kind, label in HISTORY_TYPES.items()
    )
    return f"CASE {expr} {cases} ELSE {expr} END"


def recharge_history(callerid):
    """Every ledger row of the CallerID except calls, newest first (ledger order reversed)."""
    return (
        LedgerEntry.objects.filter(callerid=callerid).exclude(kind=LedgerKind.CALL).order_by("-id")
    )


@register
class RechargeHistoryExporter(ScopedExporter):
    identifier = "recharge_history"
    verbose_name = "Recharge history"
    filterset_class = RechargeHistoryFilter
    object_params = ("callerid",)

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first (404 outside it), then the page's search.
        self.callerid = get_callerid_for_user(user, self.object_id("callerid"))
        self.queryset = self.filter(recharge_history(self.callerid))

    def columns(self) -> list[Column]:
        return [
            Column("Order Number", TEXT, width=20),
            Column("Type", TEXT, width=14),
            Column("Credit Added", MONEY),
            Column("Credit Left", MONEY),
            Column("Date Added", DATETIME, width=22),
            Column("Added by", TEXT, width=18),
        ]

    def values(self):
        return self.queryset.values_list(
            "order_number", "kind", "amount", "balance_after", "created_at", "actor_username"
        )

    def copy_source(self) -> CopySource:
        return CopySource(
            self.values(),
            [
                CopyColumn("r.c0"),
                CopyColumn(_type_sql("r.c1")),
                CopyColumn("r.c2", unlimited="r.c2 IS NULL"),
                CopyColumn("r.c3", unlimited="r.c3 IS NULL"),
                CopyColumn("r.c4"),
                CopyColumn("r.c5"),
            ],
        )

    def rows(self):
        for order_number, kind, amount, balance, created, added_by in self.values().iterator(
            chunk_size=self.chunk_size
        ):
            yield (
                order_number or None,
                HISTORY_TYPES.get(kind, kind),
                # Only Unlimited grants (set_unlimited, an Unlimited initial credit) lack one.
                UNLIMITED if amount is None else amount,
                UNLIMITED if balance is None else balance,
                created,
                added_by or None,
            )

    def file_stem(self) -> str:
        return f"recharge-history-{file_name_part(self.callerid.number)}"

    def sheet_title(self) -> str:
        return f"History {self.callerid.number}"


# The cost report's exporter lives beside its page; importing it here registers it at startup.
from credit import exports_cost  # noqa: E402, F401
