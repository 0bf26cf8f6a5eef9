"""A reseller manages the authorized CallerIDs of a callback extension: adds three (one
with a PIN, one Unlimited), switches one off with the S button, searches, removes one
after confirming, and is refused when adding past the license."""

import re

import pytest
from playwright.sync_api import expect

from callerids.models import AuthorizedCallerID, License
from callerids.selectors import get_license
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reseller_adds_switches_searches_and_removes_callerids(
    page, shoot, reseller_a_user, staff_a_user, extension_a
):
    get_license()
    log_in(page, "alice", PASSWORD)
    page.goto(f"/extensions/{extension_a.pk}/callerids/")
    expect(page.get_by_role("heading", name="Authorized CallerIDs")).to_be_visible()
    expect(page.get_by_test_id("room-left")).to_have_text(re.compile(r"You can add \d+ more"))
    shoot("empty-list")

    page.get_by_role("link", name="Add authorized CallerIDs").click()
    expect(page.get_by_role("heading", name="Add authorized CallerIDs")).to_be_visible()
    expect(page.get_by_role("link", name="Import from file")).to_be_visible()
    page.get_by_label("Callback number (row 1)").fill("+40 721 000 111")
    page.get_by_label("PIN (row 1)").fill("4321")
    # Unlimited is offered, never ticked by default: a row starts limited.
    for row in range(1, 4):
        expect(page.get_by_label(f"Unlimited (row {row})")).not_to_be_checked()
    page.get_by_label("Initial credit (row 1)").fill("12.50")
    page.get_by_label("Order number (row 1)").fill("ORD-1")
    page.get_by_label("Callback number (row 2)").fill("+40 721 000 222")
    page.get_by_label("Unlimited (row 2)").check()
    page.get_by_label("Callback number (row 3)").fill("1234")
    page.get_by_label("Initial credit (row 3)").fill("5,5")
    shoot("add-form-filled")
    page.get_by_role("button", name="OK").click()

    # A comma is refused next to its row; nothing was saved.
    expect(page.get_by_text("Use a dot as the decimal separator.")).to_be_visible()
    assert not AuthorizedCallerID.objects.exists()
    shoot("add-form-comma-refused")
    page.get_by_label("Initial credit (row 3)").fill("5.5")
    page.get_by_role("button", name="OK").click()

    expect(page.get_by_text("Added 3 authorized CallerIDs")).to_be_visible()
    table = page.get_by_role("table", name="Authorized CallerIDs")
    for number in ("+40721000111", "+40721000222", "1234"):
        expect(table.get_by_role("link", name=number, exact=True)).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="+40721000222")).to_contain_text("Unlimited")
    expect(table.get_by_role("row").filter(has_text="+40721000111")).to_contain_text("12.50")
    shoot("list-with-three")

    # The S button switches one off (a POST).
    page.get_by_role("button", name="Disable 1234").click()
    expect(page.get_by_text("1234 disabled.")).to_be_visible()
    expect(page.get_by_role("button", name="Enable 1234")).to_be_visible()
    assert AuthorizedCallerID.objects.get(number="1234").status == "disabled"
    shoot("switched-off")

    # Search: any part of the number, in the URL.
    page.get_by_label("Search", exact=True).fill("000 111")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=000\+111"))
    expect(table.get_by_role("link", name="+40721000111", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="+40721000222", exact=True)).to_have_count(0)
    shoot("searched")

    # Remove one, with the confirmation step.
    page.get_by_label("Select +40721000111").check()
    page.get_by_role("button", name="Remove selected").click()
    expect(page.get_by_role("heading", name="Confirm removal")).to_be_visible()
    expect(page.get_by_test_id("numbers-to-remove")).to_have_text("+40721000111")
    assert AuthorizedCallerID.objects.get(number="+40721000111").status == "enabled"
    shoot("confirm-removal")
    page.get_by_role("button", name="Confirm removal").click()
    expect(page.get_by_text("Removed 1 CallerID.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=000\+111"))  # back to the same search
    expect(table.get_by_role("link", name="+40721000111", exact=True)).to_have_count(0)
    assert AuthorizedCallerID.objects.get(number="+40721000111").status == "removed"
    shoot("removed")

    page.get_by_label("Status").select_option("removed")
    page.get_by_role("button", name="Search", exact=True).click()
    removed_row = table.get_by_role("row").filter(has_text="+40721000111")
    expect(removed_row).to_contain_text("Removed")
    expect(removed_row.get_by_role("checkbox")).to_have_count(0)
    expect(removed_row.get_by_role("link", name="Credit of +40721000111")).to_be_visible()
    shoot("removed-filter")

    # Past the license: the refusal is read on the form.
    License.objects.filter(pk=1).update(max_active_callerids=2)
    page.goto(f"/extensions/{extension_a.pk}/callerids/add/")
    expect(page.get_by_test_id("room-left")).to_have_text("You can add 1 more")
    page.get_by_label("Callback number (row 1)").fill("5551")
    page.get_by_label("Callback number (row 2)").fill("5552")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_text("Adding 2 would exceed the license by 1.")).to_be_visible()
    assert not AuthorizedCallerID.objects.filter(number__in=["5551", "5552"]).exists()
    shoot("license-refused")

    License.objects.filter(pk=1).update(max_active_callerids=1)
    page.goto(f"/extensions/{extension_a.pk}/callerids/")
    expect(page.get_by_test_id("add-refusal")).to_have_text(
        "No license room left: You can add 0 more."
    )
    shoot("add-link-disabled")

    # The edit form, reached from the number's link.
    table.get_by_role("link", name="+40721000222", exact=True).click()
    expect(page.get_by_role("heading", name="Edit CallerID +40721000222")).to_be_visible()
    shoot("edit-form")


def test_staff_see_the_list_read_only(page, shoot, staff_a_user, extension_a):
    from callerids.services.callerids import add_callerids
    from callerids.services.validation import NewCallerID
    from tenancy.audit import SYSTEM

    add_callerids(actor=SYSTEM, extension=extension_a, rows=[NewCallerID("1234")])
    log_in(page, "sam", PASSWORD)
    page.goto(f"/extensions/{extension_a.pk}/callerids/")
    table = page.get_by_role("table", name="Authorized CallerIDs")
    expect(table.get_by_text("1234", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove selected")).to_have_count(0)
    expect(page.get_by_role("link", name="Add authorized CallerIDs")).to_have_count(0)
    expect(page.get_by_role("link", name="Export to Excel")).to_be_visible()
    shoot("staff-list")
