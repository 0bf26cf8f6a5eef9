"""A reseller manages a CallerID's credit: recharges 10.00 and finds it in the history,
double-clicks OK on a second recharge and a re-sent form (both applied once), then limits
an Unlimited CallerID with -10 and sees Credit Left 0."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callerids.models import AuthorizedCallerID
from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.models import LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import ChargingPreferences
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal


def make(extension, number, credit=None, unlimited=False):
    row = NewCallerID(number, credit=credit, unlimited=unlimited, order_number="")
    return add_callerids(actor=SYSTEM, extension=extension, rows=[row]).callerids[0]


def spend(callerid, amounts):
    """Call rows straight into the ledger (as the PBX's reports would write them)."""
    balance = callerid.available
    for amount in amounts:
        balance += D(amount)
        LedgerEntry.objects.create(
            callerid=callerid, kind=LedgerKind.CALL, amount=D(amount), balance_after=balance
        )
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(available=balance)


def open_credit_page(page, callerid) -> None:
    """Through the B link of the CallerIDs list (removed CallerIDs are not listed: directly)."""
    credit_url = reverse("credit:callerid_credit", args=[callerid.pk])
    page.goto(reverse("callerids:list", args=[callerid.extension_id]))
    links = page.locator(f'a[href="{credit_url}"]')
    if links.count():
        links.first.click()
    else:
        page.goto(credit_url)
    expect(page).to_have_url(re.compile(re.escape(credit_url)))


def add_credit_form(page):
    # The history search has an "Order number" field too: each label focuses its own.
    return page.get_by_role("region", name="Add credit form")


def history(page):
    return page.get_by_role("table", name="Recharge history")


def first_history_row(page):
    return history(page).locator("tbody tr:not(.calls-between)").first


def test_a_reseller_recharges_and_limits_credit(page, shoot, reseller_a_user, extension_a):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})
    callerid = make(extension_a, "+40721000123", credit=D("5"))
    unlimited = make(extension_a, "+40721000777", unlimited=True)
    spend(callerid, ["-0.50", "-0.25"])  # 5.00 -> 4.25

    log_in(page, "alice", PASSWORD)
    open_credit_page(page, callerid)
    expect(page.get_by_role("heading", name="Credit Management for CallerID +40721000123"))
    expect(page.get_by_text("(currently 4.25 EUR left)")).to_be_visible()
    expect(page.get_by_test_id("calls-between")).to_have_text("calls: \u22120.7500 (2 calls)")
    shoot("credit-page")

    # A recharge of 10.00 appears at the top of the history.
    page.get_by_role("textbox", name="Add credit").fill("10.00")
    add_credit_form(page).get_by_label("Order number").fill("ORD-1")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status").filter(has_text="Added 10.00 EUR")).to_be_visible()
    expect(page.get_by_test_id("available-credit")).to_contain_text("14.25")
    row = first_history_row(page)
    expect(row).to_contain_text("ORD-1")
    # Order Number, Type, Credit Added, Credit Left, Date Added, Added by
    expect(row.locator("td").nth(1)).to_have_text("Recharge")
    expect(row.locator("td").nth(2)).to_have_text("10.00")
    expect(row.locator("td").nth(3)).to_have_text("14.25")
    expect(row.locator("td").nth(5)).to_have_text("alice")
    shoot("recharged")

    # A double click on OK: the browser may send the form once or twice; applied once.
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    page.get_by_role("textbox", name="Add credit").fill("2.50")
    add_credit_form(page).get_by_label("Order number").fill("ORD-2")
    page.get_by_role("button", name="OK").dblclick()
    expect(page.get_by_test_id("available-credit")).to_contain_text("16.75")
    page.wait_for_load_state("networkidle")
    assert posts, "the double click posted the form"
    assert LedgerEntry.objects.filter(callerid=callerid, order_number="ORD-2").count() == 1
    assert AuthorizedCallerID.objects.get(pk=callerid.pk).available == D("16.75")
    expect(history(page).get_by_role("cell", name="ORD-2", exact=True)).to_have_count(1)
    shoot("double-click-applied-once")

    # Going back and sending the same form again (its one-time key included) changes nothing.
    page.get_by_role("textbox", name="Add credit").fill("1")
    add_credit_form(page).get_by_label("Order number").fill("ORD-3")
    key = page.locator("input[name=one_time_key]").input_value()
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_test_id("available-credit")).to_contain_text("17.75")
    # Back shows a fresh form (a new key); put the sent form back as a browser's form
    # restore or retry would send it: same values, same one-time key.
    page.go_back()
    page.get_by_role("textbox", name="Add credit").fill("1")
    add_credit_form(page).get_by_label("Order number").fill("ORD-3")
    page.locator("input[name=one_time_key]").evaluate("(input, key) => input.value = key", key)
    page.get_by_role("button", name="OK").click()
    expect(
        page.get_by_role("status").filter(has_text=re.compile(r"Already applied at \d\d:\d\d"))
    ).to_be_visible()
    expect(page.get_by_test_id("available-credit")).to_contain_text("17.75")
    assert LedgerEntry.objects.filter(callerid=callerid, order_number="ORD-3").count() == 1
    shoot("resent-form-already-applied")

    # A refusal stays on the form, next to the field.
    page.get_by_role("textbox", name="Add credit").fill("2,50")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_text("Use a dot as the decimal separator.")).to_be_visible()
    shoot("refused-comma")

    # An Unlimited CallerID limited with -10 has 0 left.
    open_credit_page(page, unlimited)
    expect(page.get_by_text("(currently Unlimited left)")).to_be_visible()
    expect(first_history_row(page).locator("td").nth(1)).to_have_text("Initial credit")
    expect(first_history_row(page).locator("td").nth(2)).to_have_text("Unlimited")
    shoot("unlimited")
    page.get_by_role("textbox", name="Add credit").fill("-10")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status").filter(has_text="now limited")).to_be_visible()
    row = first_history_row(page)
    expect(row.locator("td").nth(1)).to_have_text("Limit set")
    expect(row.locator("td").nth(2)).to_have_text("-10.00")
    expect(row.locator("td").nth(3)).to_have_text("0.00")
    expect(page.get_by_test_id("available-credit")).to_contain_text("0.00")
    shoot("limited-to-zero")
