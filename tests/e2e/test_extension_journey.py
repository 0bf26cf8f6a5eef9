"""A reseller sets up a callback extension that returns calls to a fixed number, then
switches it to the authorized CallerIDs and sees the fixed-number field disabled."""

import re

import pytest
from playwright.sync_api import expect

from callback.models import CallbackExtension, ReturnMode
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reseller_creates_a_fixed_number_extension_then_switches_it(
    page, shoot, reseller_a_user, org_a
):
    log_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="Callback extensions").first.click()
    expect(page.get_by_role("heading", name="Callback extensions")).to_be_visible()
    shoot("empty-list")

    page.get_by_role("link", name="Add callback extension").click()
    fixed_number = page.get_by_label("Number where calls should be returned")
    expect(fixed_number).to_be_disabled()
    expect(page.get_by_label("to the caller callerID")).to_have_count(0)
    shoot("new-form")

    page.get_by_label("Organization").select_option(label="Org A1 (Reseller A)")
    page.get_by_label("Extension number").fill("0003*050")
    page.get_by_label("Name", exact=True).fill("Back to the office")
    page.get_by_label("to a fixed number").check()
    expect(fixed_number).to_be_enabled()
    fixed_number.fill("+40 721 000 123")
    page.get_by_label("Lock a CallerID after N wrong PINs in a row").fill("0")
    expect(page.get_by_text("0 allows unlimited PIN guessing").first).to_be_visible()
    shoot("filled-form")
    page.get_by_role("button", name="Create").click()

    expect(
        page.get_by_role("heading", name=re.compile("Callback extension 0003\\*050"))
    ).to_be_visible()
    expect(page.get_by_test_id("return-mode")).to_have_text("to a fixed number")
    expect(page.get_by_text("+40721000123")).to_be_visible()
    shoot("management-page")

    page.get_by_role("link", name="Setup").click()
    expect(fixed_number).to_be_enabled()
    expect(fixed_number).to_have_value("+40721000123")
    expect(page.get_by_label("to a fixed number")).to_be_checked()
    shoot("reopened-form")

    page.get_by_label("coming from the authorized callerIDs").check()
    expect(fixed_number).to_be_disabled()
    shoot("switched-mode-field-disabled")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("return-mode")).to_have_text("coming from the authorized callerIDs")
    shoot("saved")
    extension = CallbackExtension.objects.get(number="0003*050")
    assert extension.return_mode == ReturnMode.AUTHORIZED
    assert extension.fixed_number == ""
    assert extension.pin_lock_limit == 0

    page.get_by_role("link", name="Setup").click()
    expect(page.get_by_label("Number where calls should be returned")).to_be_disabled()
    expect(page.get_by_label("Number where calls should be returned")).to_have_value("")
    page.get_by_role("link", name="Callback extensions").first.click()
    row = page.get_by_role("row", name=re.compile("0003\\*050"))
    expect(row).to_contain_text("coming from the authorized callerIDs")
    page.get_by_role("textbox", name="Search").fill("office")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="0003*050")).to_be_visible()
    shoot("list-searched")


def test_a_wrong_extension_number_is_shown_next_to_the_field(page, shoot, admin_user, org_a):
    log_in(page, "admin", PASSWORD)
    page.goto("/extensions/new/")
    page.get_by_label("Organization").select_option(label="Org A1 (Reseller A)")
    page.get_by_label("Extension number").fill("12*")
    page.get_by_label("to a fixed number").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Use 1 to 10 digits")).to_be_visible()
    expect(page.get_by_text("Enter the number where calls should be returned.")).to_be_visible()
    expect(page.get_by_label("Number where calls should be returned")).to_be_enabled()
    expect(page.get_by_text("spoofed premium-rate number")).to_be_visible()
    shoot("errors-by-the-fields")
