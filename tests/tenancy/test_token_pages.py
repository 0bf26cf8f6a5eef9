"""The API tokens pages (tenancy:token_list and friends): admins only."""

import re

import pytest
from django.urls import reverse

from tenancy.audit import SYSTEM
from tenancy.models import ApiToken, AuditEvent
from tenancy.services.tokens import authenticate_token, create_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(reseller_a):
    return create_token(actor=SYSTEM, name="pbx-a", reseller=reseller_a).token


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize("role", ["reseller_a", "staff_a", "staff_server"])
def test_other_roles_cannot_create_or_revoke(client_for, token, role):
    client = client_for(role)
    assert client.post(reverse("tenancy:token_create"), {"name": "x"}).status_code == 403
    assert client.post(reverse("tenancy:token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_the_list_shows_scope_use_and_status(client_for, token, django_assert_max_num_queries):
    create_token(actor=SYSTEM, name="pbx-all", reseller=None)
    ApiToken.objects.filter(pk=token.pk).update(last_used_address="192.0.2.9")
    client = client_for("admin")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("tenancy:token_list")).content.decode()
    assert "pbx-a" in page and "Reseller A" in page
    assert "pbx-all" in page and "Whole server" in page
    assert f"cbm_{token.prefix}_…" in page
    assert "192.0.2.9" in page
    assert token.secret_sha256 not in page


def test_creating_shows_the_token_once(client_for, reseller_b):
    client = client_for("admin")
    response = client.post(
        reverse("tenancy:token_create"),
        {"name": "pbx-b", "reseller": reseller_b.pk, "permissions": ["pbx"]},
    )
    token = ApiToken.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tenancy:token_created", args=[token.pk])
    page = client.get(response["Location"]).content.decode()
    plaintext = page.split('data-testid="api-token"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert authenticate_token(plaintext, address=None) == token
    assert token.reseller == reseller_b
    assert "will not be shown again" in page
    again = client.get(response["Location"]).content.decode()
    assert plaintext not in again
    assert "already shown once" in again
    assert AuditEvent.objects.filter(action="api_token.create", actor__username="admin").exists()


def test_a_missing_name_shows_an_error_by_the_field(client_for):
    response = client_for("admin").post(reverse("tenancy:token_create"), {"name": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_unknown_reseller_is_refused(client_for):
    response = client_for("admin").post(
        reverse("tenancy:token_create"), {"name": "x", "reseller": 999}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_revoking_asks_for_confirmation_then_revokes(client_for, token):
    client = client_for("admin")
    confirm = client.get(reverse("tenancy:token_revoke", args=[token.pk])).content.decode()
    assert "Confirm revocation" in confirm
    token.refresh_from_db()
    assert token.revoked_at is None  # GET changes nothing
    response = client.post(reverse("tenancy:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()
    # A re-sent form does no harm.
    assert client.post(reverse("tenancy:token_revoke", args=[token.pk])).status_code == 302
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
    listing = client.get(reverse("tenancy:token_list")).content.decode()
    assert "Revoked" in listing


def test_an_unknown_token_is_404(client_for):
    assert client_for("admin").get(reverse("tenancy:token_revoke", args=[999])).status_code == 404


def test_the_navigation_shows_api_tokens_to_admins(client_for):
    assert reverse("tenancy:token_list") in client_for("admin").get("/").content.decode()


def test_the_form_offers_both_permissions_with_pbx_ticked(client_for):
    page = client_for("admin").get(reverse("tenancy:token_create")).content.decode()
    assert 'value="pbx"' in page and 'value="provisioning"' in page
    assert re.search(r'value="pbx"[^>]*checked', page)
    assert not re.search(r'value="provisioning"[^>]*checked', page)


def test_creating_with_both_permissions(client_for):
    client = client_for("admin")
    client.post(
        reverse("tenancy:token_create"),
        {"name": "shop", "reseller": "", "permissions": ["pbx", "provisioning"]},
    )
    token = ApiToken.objects.get()
    assert token.permissions == ["pbx", "provisioning"]
    assert (
        "Permissions: pbx, provisioning"
        in client.get(reverse("tenancy:token_created", args=[token.pk])).content.decode()
    )
    assert "pbx, provisioning" in client.get(reverse("tenancy:token_list")).content.decode()
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.after["permissions"] == ["pbx", "provisioning"]


def test_a_token_needs_a_permission(client_for):
    response = client_for("admin").post(
        reverse("tenancy:token_create"), {"name": "shop", "reseller": ""}
    )
    assert response.status_code == 200
    assert "Choose at least one permission." in response.content.decode()
    assert not ApiToken.objects.exists()
