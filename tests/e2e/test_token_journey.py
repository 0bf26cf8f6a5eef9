"""An admin creates an API token, sees it once, the PBX uses it, the admin revokes it."""

import json

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def authorize(token: str) -> int:
    return (
        Client()
        .post(
            "/api/v1/callback/authorize",
            json.dumps({"extension": "0003*001", "caller_id": "1234"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        .status_code
    )


def test_an_admin_creates_uses_and_revokes_a_token(page, shoot, admin_user, extension_a):
    page.goto("/")
    log_in(page, "admin", PASSWORD)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="API tokens"
    ).click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    shoot("empty-list")

    page.get_by_role("link", name="Create API token").click()
    page.get_by_label("Name").fill("pbx1 Bucharest")
    page.get_by_label("Scope").select_option(label="Reseller A")
    shoot("form")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    token = page.get_by_label("Token").input_value()
    assert token.startswith("cbm_")
    shoot("shown-once")
    assert authorize(token) == 200

    page.reload()
    expect(page.get_by_text("already shown once")).to_be_visible()
    assert token not in page.content()

    page.get_by_role("link", name="Back to API tokens").click()
    expect(page.get_by_role("cell", name="pbx1 Bucharest", exact=True)).to_be_visible()
    shoot("list")
    page.get_by_role("link", name="Revoke pbx1 Bucharest").click()
    shoot("confirm-revoke")
    page.get_by_role("button", name="Confirm revocation").click()
    expect(page.get_by_text("revoked: the PBX using it is refused")).to_be_visible()
    shoot("revoked")
    assert authorize(token) == 401


def test_an_admin_makes_a_provisioning_token_for_a_shop(page, shoot, admin_user, extension_a):
    page.goto("/")
    log_in(page, "admin", PASSWORD)
    page.goto("/tokens/new/")
    page.get_by_label("Name").fill("acme shop")
    page.get_by_label("Scope").select_option(label="Reseller A")
    expect(page.get_by_label("PBX (authorize, PINs, calls, credit)")).to_be_checked()
    page.get_by_label("PBX (authorize, PINs, calls, credit)").uncheck()
    page.get_by_label("Provisioning (manage CallerIDs, recharge credit)").check()
    shoot("provisioning-form")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Permissions: provisioning.")).to_be_visible()
    token = page.get_by_label("Token").input_value()
    shoot("provisioning-shown-once")
    assert authorize(token) == 403  # not a PBX token
    listed = Client().get("/api/v1/extensions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [e["number"] for e in listed.json()["results"]] == ["0003*001"]
    page.goto("/tokens/")
    expect(page.get_by_role("cell", name="provisioning", exact=True)).to_be_visible()
    shoot("provisioning-list")
