import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tenancy.client_address import client_address

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_migrated():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_every_page_but_login_requires_login():
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_public():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_wrong_credentials_show_a_clear_message(admin_user):
    response = Client().post(reverse("login"), {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_right_credentials_reach_the_panel(admin_user):
    from tests.conftest import PASSWORD

    client = Client()
    response = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert b"Signed in as <strong>admin</strong>" in page.content


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_locks_after_repeated_failures(admin_user):
    from tests.conftest import PASSWORD

    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": "admin", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


def test_logout_is_a_post(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_footer_names_the_server_time_zone(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert b'data-testid="server-time-zone">UTC<' in client.get(reverse("home")).content


def test_a_user_without_role_sees_a_warning(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("norole", password="x")
    client = Client()
    client.force_login(user)
    assert b"no role" in client.get(reverse("home")).content


class FakeRequest:
    def __init__(self, remote, forwarded=None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_client_address_is_the_peer_without_trusted_proxies():
    assert client_address(FakeRequest("10.0.0.1", "1.2.3.4")) == "10.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_client_address_takes_the_entry_the_trusted_proxy_added():
    assert client_address(FakeRequest("10.0.0.1", "6.6.6.6, 1.2.3.4")) == "1.2.3.4"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_client_address_with_two_proxies_and_a_forged_entry():
    assert client_address(FakeRequest("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2")) == "1.2.3.4"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_client_address_falls_back_to_the_peer_when_too_few_entries():
    assert client_address(FakeRequest("10.0.0.1", "1.2.3.4")) == "10.0.0.1"


def test_changing_ones_own_password_is_audited_and_keeps_the_session(admin_user):
    from tenancy.models import AuditEvent

    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery-staple",
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.check_password("a-new-long-passphrase-42")
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor == admin_user
    assert event.after == {"password": "changed"}
    assert "a-new-long-passphrase-42" not in str(event.before) + str(event.after)


def test_a_wrong_old_password_changes_nothing(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "x-long-pass-1",
            "new_password2": "x-long-pass-1",
        },
    )
    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content


@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_is_not_redirected_to_https():
    assert Client().get("/healthz").status_code == 200
