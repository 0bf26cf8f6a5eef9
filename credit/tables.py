"""The recharge history table of the credit management page (django-tables2)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone

from credit.models import LedgerEntry
from values.money import UNLIMITED, format_amount

RIGHT = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


def _exact(value) -> str:
    """The stored 4-decimal value, shown on hover when the page rounds it."""
    return UNLIMITED if value is None else f"{value:.4f}"


class RechargeHistoryTable(tables.Table):
    """Newest first, in ledger order only: not sortable (the export accepts no sort key)."""

    order_number = tables.Column(verbose_name="Order Number", default="")
    kind = tables.Column(verbose_name="Type", accessor="type_label")
    amount = tables.Column(
        verbose_name="Credit Added",
        empty_values=(),
        attrs={**RIGHT, "td": {**RIGHT["td"], "title": lambda record: _exact(record.amount)}},
    )
    balance_after = tables.Column(
        verbose_name="Credit Left",
        empty_values=(),
        attrs={
            **RIGHT,
            "td": {**RIGHT["td"], "title": lambda record: _exact(record.balance_after)},
        },
    )
    created_at = tables.Column(verbose_name="Date Added")
    # Rows written by the system (seeding, commands) keep no username.
    actor_username = tables.Column(verbose_name="Added by", default="\u2014")

    class Meta:
        model = LedgerEntry
        fields = ("order_number", "kind", "amount", "balance_after", "created_at", "actor_username")
        orderable = False
        template_name = "credit/credit_history_table.html"
        empty_text = "No recharge matches this search."
        attrs = {"class": "table table-sm align-middle", "aria-label": "Recharge history"}
        row_attrs = {"data-kind": lambda record: record.kind}

    def __init__(self, *args, decimals: int, **kwargs):
        self.decimals = decimals
        super().__init__(*args, **kwargs)

    def render_amount(self, value):
        # None only for Unlimited grants (set_unlimited, an Unlimited initial credit).
        return format_amount(value, self.decimals)

    def render_balance_after(self, value):
        return format_amount(value, self.decimals)

    def render_created_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
