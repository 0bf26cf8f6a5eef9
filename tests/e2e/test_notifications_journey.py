"""Browser journey: a reseller sets up low-credit alerts, copies the secret shown once,
sends a test event and sees it in the delivery log (SPEC §12)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications.models import ChannelSettings
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reseller_sets_up_alerts_and_sends_a_test_event(page, shoot, reseller_a_user, reseller_a):
    log_in(page, "alice", PASSWORD)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Notifications"
    ).click()
    expect(page.get_by_role("heading", name="Notifications: Reseller A")).to_be_visible()
    shoot("empty")
    page.get_by_label("Low-credit threshold").fill("5")
    page.get_by_label("E-mail addresses").fill("ops@example.org")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Notification settings saved.")).to_be_visible()
    assert ChannelSettings.objects.get(reseller=reseller_a).email_list == ["ops@example.org"]

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("A test event was sent")).to_be_visible()
    log = page.get_by_role("table", name="Delivery log")
    expect(log).to_contain_text("test")
    expect(log).to_contain_text("ops@example.org")
    expect(log).to_contain_text("Delivered")
    shoot("test-sent")

    page.goto(reverse("notifications:reseller", args=[reseller_a.pk]))
    page.get_by_label("Webhook URL").fill("http://127.0.0.1:8198/hook")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("loopback, private or link-local")).to_be_visible()
    shoot("refused-webhook")
