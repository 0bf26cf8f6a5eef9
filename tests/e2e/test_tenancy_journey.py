"""An admin creates a reseller, an organization and a user for it; that user logs in and
sees only its own organizations."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "gamma-reseller-passphrase-7"


def nav(page, label):
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=label).click()


def test_an_admin_sets_up_a_reseller_whose_user_sees_only_its_organizations(
    page, shoot, admin_user, org_a, org_b
):
    log_in(page, "admin", PASSWORD)
    nav(page, "Resellers")
    expect(page.get_by_role("heading", name="Resellers")).to_be_visible()
    page.get_by_role("link", name="Add reseller").click()
    page.get_by_label("Name").fill("Gamma Net")
    page.get_by_label("Maximum active CallerIDs").fill("25")
    shoot("new-reseller")
    page.get_by_role("button", name="Create reseller").click()
    expect(page.get_by_text('Reseller "Gamma Net" created.')).to_be_visible()
    expect(page.get_by_role("link", name="Gamma Net")).to_be_visible()
    shoot("reseller-list")

    # A duplicate name, in another case, is refused next to the field.
    page.get_by_role("link", name="Add reseller").click()
    page.get_by_label("Name").fill("GAMMA net")
    page.get_by_role("button", name="Create reseller").click()
    expect(page.get_by_text("already exists (names are compared ignoring case)")).to_be_visible()
    shoot("duplicate-reseller")

    nav(page, "Organizations")
    page.get_by_role("link", name="Add organization").click()
    page.get_by_label("Reseller").select_option(label="Gamma Net")
    page.get_by_label("Name").fill("Gamma HQ")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("link", name="Gamma HQ")).to_be_visible()
    shoot("organization-list-admin")

    nav(page, "Users")
    page.get_by_role("link", name="Add user").click()
    page.get_by_label("Username").fill("gina")
    page.get_by_label("Role").select_option("reseller")
    page.get_by_label("Reseller").select_option(label="Gamma Net")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    shoot("new-user")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text('User "gina" created.')).to_be_visible()
    shoot("user-list")

    nav(page, "Audit log")
    # gina's row: the set-up's users (made through the services) have user.create rows too.
    gina_created = page.get_by_role("row").filter(has_text="gina")
    expect(gina_created.get_by_role("cell", name="user.create")).to_be_visible()
    shoot("audit-log")

    page.get_by_role("button", name="admin").click()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "gina", NEW_PASSWORD)
    expect(page.get_by_text("Signed in as gina")).to_be_visible()
    nav(page, "Organizations")
    expect(page.get_by_role("link", name="Gamma HQ")).to_be_visible()
    expect(page.get_by_text("Org A1")).to_have_count(0)
    expect(page.get_by_text("Org B1")).to_have_count(0)
    shoot("organization-list-reseller")
    navigation = page.get_by_role("navigation", name="Main navigation")
    expect(navigation.get_by_role("link", name="Resellers")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Users")).to_have_count(0)

    # Another reseller's organization is not there even by its address.
    page.goto(f"/organizations/{org_a.pk}/")
    expect(page.get_by_text("Gamma HQ")).to_have_count(0)
    shoot("other-resellers-organization")
