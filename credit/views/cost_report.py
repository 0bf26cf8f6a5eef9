"""The cost report of one callback extension (SPEC §7): calls, totals, cost per day."""

from __future__ import annotations

import datetime as dt

from django.http import QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from callback.scope import get_extension_for_user
from credit import exports_cost  # noqa: F401  registers the "cost_report" exporter
from credit.charts import cost_charts
from credit.forms_cost import CostReportForm
from credit.selectors_cost import cost_per_day, cost_report_calls, cost_report_totals, month_of
from credit.tables_cost import CostReportTable, format_duration
from panel.paging import configure_list
from tenancy.preferences import get_preferences

PER_PAGE = 50


def _link(base: str, params: QueryDict, **changes) -> str:
    """The report's URL with some parameters changed (None drops one); the page resets."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"{base}?{encoded}" if encoded else base


def _quick_picks(base: str, params: QueryDict) -> list[tuple[str, str]]:
    today = timezone.localdate()
    this_month = month_of(today)
    last_month = month_of(this_month[0] - dt.timedelta(days=1))
    picks = [("Today", (today, today)), ("This month", this_month), ("Last month", last_month)]
    return [
        (label, _link(base, params, **{"from": first.isoformat(), "to": last.isoformat()}))
        for label, (first, last) in picks
    ]


@require_safe
def cost_report(request, pk: int):
    extension = get_extension_for_user(request.user, pk)
    form = CostReportForm(request.GET, extension=extension)
    report = form.report_filter()
    base = reverse("credit:cost_report", args=[extension.pk])
    context = {
        "extension": extension,
        "form": form,
        "report": report,
        "quick_picks": _quick_picks(base, form.data),
        "clear_callerid_url": _link(base, form.data, callerid=None, number=None),
    }
    if report is not None:
        preferences = get_preferences()
        totals = cost_report_totals(report)
        table = CostReportTable(cost_report_calls(report), decimals=preferences.decimals)
        configure_list(request, table, per_page=PER_PAGE)
        context |= {
            "table": table,
            "totals": totals,
            "duration": format_duration(totals.seconds),
            "unmetered_duration": format_duration(totals.unmetered_seconds),
            "chart": cost_charts(
                cost_per_day(report),
                decimals=preferences.decimals,
                currency=preferences.currency,
                nonce=getattr(request, "csp_nonce", ""),
            ),
            "currency": preferences.currency,
            "charging_preferences": preferences,  # the {% money %} tag's
        }
    return render(request, "credit/cost_report.html", context)


urlpatterns = [
    path("extensions/<int:pk>/cost-report/", cost_report, name="cost_report"),
]
