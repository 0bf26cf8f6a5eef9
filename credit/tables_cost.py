"""The cost report's table of calls (django-tables2)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone

from credit.models import Call
from values.money import format_amount


def format_duration(seconds: int) -> str:
    """125 -> "0:02:05"; hours are not capped at 24."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_local(value) -> str:
    """An aware datetime in the server time zone, to the second."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "text-end"}, "th": {"class": "text-end"}})
        super().__init__(*args, **kwargs)

    def render(self, value, table):
        return format_amount(value, table.decimals)


# The table's sort keys (the `sort` parameter, "-" for descending) and what each orders by;
# the export accepts the same keys. Every ordering ends with the id so pages stay stable
# when values tie.
SORT_KEYS = {
    name: (name, "id")
    for name in (
        "started_at",
        "caller_number",
        "destination",
        "duration_seconds",
        "cost",
        "charged",
        "shortfall",
        "metered",
    )
}


def ordering_for(sort: str) -> tuple[str, ...] | None:
    """The order_by() arguments for a sort key such as "-cost"; None for an unknown key."""
    descending = sort.startswith("-")
    fields = SORT_KEYS.get(sort.removeprefix("-"))
    if fields is None:
        return None
    return tuple(f"-{field}" for field in fields) if descending else fields


class CostReportTable(tables.Table):
    started_at = tables.Column(verbose_name="Start time", order_by=SORT_KEYS["started_at"])
    caller_number = tables.Column(verbose_name="CallerID", order_by=SORT_KEYS["caller_number"])
    destination = tables.Column(order_by=SORT_KEYS["destination"])
    duration_seconds = tables.Column(
        verbose_name="Duration",
        order_by=SORT_KEYS["duration_seconds"],
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    cost = AmountColumn(order_by=SORT_KEYS["cost"])
    charged = AmountColumn(order_by=SORT_KEYS["charged"])
    shortfall = AmountColumn(order_by=SORT_KEYS["shortfall"])
    metered = tables.Column(order_by=SORT_KEYS["metered"])

    class Meta:
        model = Call
        fields = (
            "started_at",
            "caller_number",
            "destination",
            "duration_seconds",
            "cost",
            "charged",
            "shortfall",
            "metered",
        )
        empty_text = "No calls in this range."
        attrs = {"class": "table table-sm table-striped align-middle"}

    def __init__(self, *args, decimals: int, **kwargs):
        self.decimals = decimals
        super().__init__(*args, **kwargs)

    def render_started_at(self, value):
        return format_local(value)

    def render_duration_seconds(self, value):
        return format_duration(value)

    def render_metered(self, value):
        return "Yes" if value else "No"
