"""A reseller searches the CallerIDs list, downloads it as Excel and as CSV, and finds in
both files exactly the rows the page shows."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from callerids.selectors import get_license
from callerids.services.callerids import add_callerids, disable_callerid
from callerids.services.validation import NewCallerID
from tenancy.audit import Actor
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reseller_exports_the_searched_list_to_excel_and_csv(
    page, shoot, reseller_a_user, extension_a
):
    get_license()
    actor = Actor(user=reseller_a_user)
    added = add_callerids(
        actor=actor,
        extension=extension_a,
        rows=[
            NewCallerID(number="+40 721 000 111", pin="4321", credit=Decimal("12.5")),
            NewCallerID(number="+40 721 000 222", unlimited=True),
            NewCallerID(number="0721999333", credit=Decimal("3")),
        ],
    ).callerids
    disable_callerid(actor=actor, callerid=added[2])

    log_in(page, "alice", PASSWORD)
    page.goto(f"/extensions/{extension_a.pk}/callerids/")
    page.get_by_label("Search", exact=True).fill("721 000")
    page.get_by_role("button", name="Search", exact=True).click()
    table = page.get_by_role("table", name="Authorized CallerIDs")
    expect(table.get_by_role("link", name="+40721000111", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="0721999333", exact=True)).to_have_count(0)
    shoot("searched-list")

    with page.expect_download() as xlsx_info:
        page.get_by_role("link", name="Export to Excel").click()
    xlsx = xlsx_info.value
    assert xlsx.suggested_filename.startswith("callerids-0003-001-")
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as f:
        workbook = openpyxl.load_workbook(io.BytesIO(f.read()), read_only=True)
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["Callback Number", "Status", "PIN", "Total Credit", "Available Credit"]
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {"+40721000111", "+40721000222"}
    assert by_number["+40721000111"][1:5] == ["Enabled", "Yes", 12.5, 12.5]
    assert by_number["+40721000222"][1:5] == ["Enabled", "No", "Unlimited", "Unlimited"]

    with page.expect_download() as csv_info:
        page.get_by_role("link", name="Export to CSV").first.click()
    with open(csv_info.value.path(), "rb") as f:
        raw = f.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0][:5] == rows[0][:5]
    csv_by_number = {r[0]: r for r in lines[1:]}
    assert set(csv_by_number) == set(by_number)
    assert csv_by_number["+40721000111"][1:5] == ["Enabled", "Yes", "12.5000", "12.5000"]
    shoot("after-downloads")
