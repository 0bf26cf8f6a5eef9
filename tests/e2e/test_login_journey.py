import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_sees_the_panel_and_logs_out(page, shoot, admin_user):
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shoot("login")

    log_in(page, "admin", "wrong password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    shoot("wrong-password")

    log_in(page, "admin", PASSWORD)
    expect(page.get_by_role("heading", name="Panel")).to_be_visible()
    expect(page.get_by_text("Signed in as admin")).to_be_visible()
    shoot("panel")

    page.get_by_role("button", name="admin").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
