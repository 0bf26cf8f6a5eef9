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


class CostReportTable(tables.Table):
    """The calls of the report. Each sortable column's order_by is the sort key's ordering
    (`?sort=`, "-" for descending), the export's too; every ordering ends with the id so
    pages stay stable when values tie."""

    started_at = tables.Column(verbose_name="Start time", order_by=("started_at", "id"))
    caller_number = tables.Column(verbose_name="CallerID", order_by=("caller_number", "id"))
    destination = tables.Column(order_by=("destination", "id"))
    duration_seconds = tables.Column(
        verbose_name="Duration",
        order_by=("duration_seconds", "id"),
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    cost = AmountColumn(order_by=("cost", "id"))
    charged = AmountColumn(order_by=("charged", "id"))
    shortfall = AmountColumn(order_by=("shortfall", "id"))
    metered = tables.Column(order_by=("metered", "id"))

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


# The sort keys the page and the export accept: the table's sortable columns.
SORT_KEYS = tuple(
    name for name, column in CostReportTable.base_columns.items() if column.order_by is not None
)


def ordering_for(sort: str) -> tuple[str, ...] | None:
    """The order_by() arguments for a sort key such as "-cost"; None for an unknown key."""
    name = sort.removeprefix("-")
    if name not in SORT_KEYS:
        return None
    order_by = CostReportTable.base_columns[name].order_by
    if sort.startswith("-"):
        order_by = order_by.opposite
    return tuple(str(field) for field in order_by)
