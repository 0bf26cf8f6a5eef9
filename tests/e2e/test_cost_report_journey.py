"""A reseller opens the cost report of a CallerID (the C link), reads the totals and the
chart, changes the range, clears the filter and exports to Excel."""

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from credit.models import Call
from tests.conftest import PASSWORD
from tests.credit.test_cost_report_selectors import call, make_callerid
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _calls_this_month(extension, callerid):
    """A call or two on each day of this month so far (server time zone), some unmetered."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    rows = []
    for day in range(1, today.day + 1):
        noon = dt.datetime(today.year, today.month, day, 12, tzinfo=zone)
        cost = Decimal("0.2500") * (day % 5 + 1)
        rows.append(call(extension, noon, callerid=callerid, cost=str(cost), save=False,
                         duration=60 * (day % 7 + 1)))  # fmt: skip
        if day % 3 == 0:
            rows.append(call(extension, noon + dt.timedelta(hours=1), cost="0.4000", save=False))
    Call.objects.bulk_create(rows)
    return rows


def _open_from_the_c_link(page, extension, callerid) -> None:
    report_url = reverse("credit:cost_report", args=[extension.pk]) + f"?callerid={callerid.pk}"
    page.goto(reverse("callerids:list", args=[extension.pk]))
    page.locator(f'a[href="{report_url}"]').first.click()


def test_a_reseller_reads_a_callerids_cost_report_and_exports_it(
    page, shoot, reseller_a_user, extension_a
):
    callerid = make_callerid(extension_a, "+40721000123")
    other = make_callerid(extension_a, "+40721000999")
    rows = _calls_this_month(extension_a, callerid)
    first = timezone.localdate().replace(day=1)
    zone = timezone.get_current_timezone()
    call(extension_a, dt.datetime(first.year, first.month, 1, 1, tzinfo=zone), callerid=other,
         cost="9.0000")  # fmt: skip
    metered = [r for r in rows if r.metered]

    log_in(page, "alice", PASSWORD)
    _open_from_the_c_link(page, extension_a, callerid)

    expect(page.get_by_role("heading", name=re.compile("Cost report"))).to_be_visible()
    expect(page.get_by_label("CallerID", exact=True)).to_have_value(callerid.number)
    totals = page.get_by_role("table", name="Totals of metered calls")
    expect(totals.get_by_role("row", name=re.compile("^Calls"))).to_contain_text(str(len(metered)))
    cost = sum(r.cost for r in metered)
    expect(totals.get_by_role("row", name=re.compile("^Cost"))).to_contain_text(f"{cost:.2f} EUR")
    expect(page.get_by_role("table", name="Totals of unmetered calls")).to_contain_text("0.00 EUR")
    chart = page.get_by_test_id("cost-chart")
    expect(chart.locator("svg").first).to_be_visible()  # the wide drawing (a compact one is hidden)
    shoot("report-filtered")
    chart.screenshot(path=str(_chart_path()))  # the chart alone

    page.get_by_role("link", name="Clear CallerID filter").click()
    expect(page.get_by_label("CallerID", exact=True)).to_have_value("")
    unmetered = page.get_by_role("table", name="Totals of unmetered calls")
    expect(unmetered.get_by_role("row", name=re.compile("^Calls"))).to_contain_text(
        str(len(rows) - len(metered))
    )
    shoot("report-all-callerids")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export to Excel").click()
    download = download_info.value
    assert re.fullmatch(r"cost-report-0003-001-\d{8}-\d{8}\.xlsx", download.suggested_filename)
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    exported = list(book.worksheets[0].iter_rows(values_only=True))[1:]
    assert len(exported) == len(rows) + 1

    page.get_by_role("link", name="Last month").click()
    expect(page.get_by_text("No calls in this range.")).to_be_visible()
    shoot("report-last-month")

    page.get_by_label("From", exact=True).fill("2026-11-30")
    page.get_by_label("To", exact=True).fill("2026-11-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date must not be before the start date.")).to_be_visible()
    shoot("report-bad-range")


def _chart_path():
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / "test_a_reseller_reads_a_callerids_cost_report_and_exports_it-chart.png"
