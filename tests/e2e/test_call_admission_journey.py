"""A reseller sets the call-admission limits of an extension, sees a call the PBX started
on the calls-in-progress page and on the CallerID's credit page, and releases it."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.models import CallHold, HoldStatus
from credit.services.holds import CallStart, start_call
from tenancy.audit import SYSTEM
from tenancy.models import ApiToken, AuditEvent, ChargingPreferences
from tenancy.services.tokens import create_token
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_a_reseller_limits_an_extension_and_releases_a_stuck_call(
    page, shoot, reseller_a_user, extension_a
):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})
    row = NewCallerID("+40721000123", credit=D("5"))
    callerid = add_callerids(actor=SYSTEM, extension=extension_a, rows=[row]).callerids[0]

    log_in(page, "alice", PASSWORD)
    page.goto(reverse("callback:extension_detail", args=[extension_a.pk]))
    page.get_by_role("link", name="Setup").click()
    page.get_by_label("Maximum call duration (seconds)").fill("600")
    page.get_by_label("Maximum simultaneous calls per CallerID").fill("2")
    page.get_by_label("Maximum simultaneous calls on this extension").fill("5")
    page.get_by_label("Daily spending limit per CallerID").fill("3.50")
    expect(page.get_by_text("Most a CallerID may spend in one day")).to_be_visible()
    shoot("limits-form")
    page.get_by_role("button", name=re.compile("Save")).click()

    expect(page.get_by_test_id("max-call-duration")).to_have_text("600 s")
    expect(page.get_by_test_id("max-calls-per-callerid")).to_have_text("2")
    expect(page.get_by_test_id("max-calls")).to_have_text("5")
    expect(page.get_by_test_id("daily-limit")).to_have_text("3.50 EUR")
    shoot("management-page")

    # The PBX starts a call: 600 s at 0.10 a minute holds 1.00.
    plaintext = create_token(actor=SYSTEM, name="pbx", reseller=None).plaintext
    token = ApiToken.objects.get(prefix=plaintext.split("_")[1])
    outcome = start_call(
        token=token,
        start=CallStart(
            call_id="pbx1-1700000000.1",
            extension=extension_a.number,
            callerid_id=callerid.pk,
            destination="+4031000000",
            rate_per_minute=D("0.10"),
        ),
    )
    assert (outcome.decision, outcome.max_duration_seconds, outcome.held) == (
        "allow",
        600,
        D("1.0000"),
    )

    page.get_by_role("link", name="Calls in progress").click()
    expect(page.get_by_role("heading", name="1 call in progress")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("pbx1-1700000000.1"))
    expect(row).to_contain_text("+40721000123")
    expect(row).to_contain_text("600 s")
    expect(row).to_contain_text("1.00")
    shoot("calls-in-progress")

    page.get_by_role("link", name="+40721000123").click()
    expect(page.get_by_test_id("on-hold")).to_contain_text(
        "On hold for 1 call in progress: 1.00 EUR"
    )
    shoot("credit-page-on-hold")
    page.get_by_role("link", name="Calls in progress").click()

    page.get_by_role("button", name="Release call pbx1-1700000000.1").click()
    expect(page.get_by_text("Call pbx1-1700000000.1 released")).to_be_visible()
    expect(page.get_by_role("heading", name="0 calls in progress")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("pbx1-1700000000.1"))).to_contain_text(
        "Released by a user"
    )
    shoot("released")

    assert CallHold.objects.get().status == HoldStatus.RELEASED
    assert AuditEvent.objects.filter(action="hold.release", actor=reseller_a_user).count() == 1
    assert AuditEvent.objects.filter(action="extension.update").count() == 1
