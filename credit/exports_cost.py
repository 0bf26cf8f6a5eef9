"""Export of a callback extension's cost report (SPEC §7, §8): the page's rows, all pages.

It takes the page's parameters (`from`, `to`, `number`, `callerid`, `sort`) plus `extension`, and
checks them with the page's own form, so the export holds exactly the report's calls.
"""

from __future__ import annotations

from django.http import QueryDict

from callback.scope import get_extension_for_user
from credit.forms_cost import CostReportForm
from credit.selectors_cost import cost_report_calls
from credit.tables_cost import SORT_KEYS, format_duration, ordering_for
from exports.cells import DATETIME, INTEGER, MONEY, PHONE, TEXT, YES_NO, Column
from exports.exporters import ExportParamsError, file_name_part
from exports.registry import register
from tenancy.exports import PanelExporter
from tenancy.preferences import get_preferences

SEARCH_PARAMS = ("from", "to", "number", "callerid", "sort")


@register
class CostReportExporter(PanelExporter):
    identifier = "cost_report"
    verbose_name = "Cost report"
    object_params = ("extension",)

    @classmethod
    def search_params(cls) -> set[str]:
        return set(SEARCH_PARAMS)

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first (404 outside it), then the page's form: a CallerID that is not the
        # extension's answers 404 as on the page, bad dates answer 400.
        self.extension = get_extension_for_user(user, self.object_id("extension"))
        data = QueryDict(mutable=True)
        for name in ("from", "to", "number", "callerid"):
            if name in params:
                data[name] = params[name]
        form = CostReportForm(data, extension=self.extension)
        self.report = form.report_filter()
        if self.report is None:
            errors = " ".join(f"'{name}': {' '.join(msgs)}" for name, msgs in form.errors.items())
            raise ExportParamsError(f"Invalid search parameters. {errors}")
        sort = params.get("sort") or "started_at"
        self.ordering = ordering_for(sort)
        if self.ordering is None:
            raise ExportParamsError(
                f"Unknown sort '{sort}'. Use one of: {', '.join(SORT_KEYS)} (- for descending)."
            )
        self.preferences = get_preferences()

    def columns(self) -> list[Column]:
        return [
            Column("Start time", DATETIME, "started_at", width=22),
            Column("CallerID", PHONE, "caller_number", if_empty=None),
            Column("Destination", PHONE, "destination", if_empty=None),
            Column("Duration", TEXT, "duration_seconds", width=10, compute=format_duration),
            Column("Duration (seconds)", INTEGER, "duration_seconds"),
            Column("Cost", MONEY, "cost"),
            Column("Charged", MONEY, "charged"),
            Column("Shortfall", MONEY, "shortfall"),
            Column("Metered", TEXT, "metered", width=9, labels=YES_NO),
            Column("Currency", TEXT, width=10, constant=self.preferences.currency),
        ]

    def export_queryset(self):
        return cost_report_calls(self.report).order_by(*self.ordering)

    def money_decimals(self) -> int:
        return self.preferences.decimals

    def file_stem(self) -> str:
        return f"cost-report-{file_name_part(self.extension.number)}"

    def file_name(self, extension: str) -> str:
        """cost-report-0003-001-20261101-20261130.xlsx: the extension and the days covered."""
        first, last = self.report.first_day, self.report.last_day
        return f"{self.file_stem()}-{first:%Y%m%d}-{last:%Y%m%d}.{extension}"

    def sheet_title(self) -> str:
        return f"Cost {self.extension.number}"
