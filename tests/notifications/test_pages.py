"""The Notifications page (SPEC §12): who may use it, saving, the secret shown once,
the test event, the delivery log with Retry now, and query bounds."""

import socket
from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import ChannelSettings, Delivery, DeliveryState, Event, EventType
from notifications.selectors import server_settings
from notifications.services import emit
from tenancy.models import AuditEvent

pytestmark = pytest.mark.django_db

# Who gets through on reseller A's page (and the index) by role.
RESELLER_A_PAGE = {
    "admin": 200,
    "reseller_a": 200,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}
INDEX = {**RESELLER_A_PAGE, "reseller_a": 302, "reseller_b": 302}


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (no lookup leaves the machine)."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host.endswith("example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize(("role", "status"), RESELLER_A_PAGE.items())
def test_who_may_change_a_resellers_settings(client_for, reseller_a, role, status):
    url = reverse("notifications:reseller", args=[reseller_a.pk])
    response = client_for(role).post(url, {"action": "save", "low_credit_threshold": "5"})
    assert response.status_code == (302 if status == 200 else status)
    saved = ChannelSettings.objects.filter(reseller=reseller_a, low_credit_threshold=5).exists()
    assert saved == (status == 200)


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize(("role", "status"), INDEX.items())
def test_who_may_open_the_index(client_for, reseller_a, role, status):
    response = client_for(role).get(reverse("notifications:index"))
    assert response.status_code == status
    if role == "reseller_a":
        assert response["Location"] == reverse("notifications:reseller", args=[reseller_a.pk])


def test_the_index_lists_the_server_and_every_reseller(client_for, reseller_a, reseller_b):
    html = client_for("admin").get(reverse("notifications:index")).content.decode()
    assert "Server (every reseller" in html and "Reseller A" in html and "Reseller B" in html


def test_saving_a_webhook_shows_its_secret_once_and_audits_it(client_for, reseller_a):
    client = client_for("reseller_a")
    url = reverse("notifications:reseller", args=[reseller_a.pk])
    response = client.post(
        url,
        {
            "action": "save",
            "low_credit_threshold": "2.50",
            "emails": "ops@example.com\nnoc@example.com",
            "webhook_url": "https://hooks.example.com/cbm",
        },
        follow=True,
    )
    row = ChannelSettings.objects.get(reseller=reseller_a)
    assert row.low_credit_threshold == Decimal("2.5")
    assert row.email_list == ["ops@example.com", "noc@example.com"]
    assert row.webhook_secret.startswith("whsec_")
    assert row.webhook_secret in response.content.decode()
    assert row.webhook_secret not in client.get(url).content.decode()  # once only
    event = AuditEvent.objects.get(action="notifications.update")
    assert event.reseller == reseller_a and row.webhook_secret not in str(event.after)

    client.post(url, {"action": "rotate"})
    old = row.webhook_secret
    row.refresh_from_db()
    assert row.webhook_secret != old
    assert AuditEvent.objects.get(action="notifications.rotate_secret").after == {
        "secret": "changed"
    }


def test_bad_input_is_explained_next_to_its_field(client_for, reseller_a):
    url = reverse("notifications:reseller", args=[reseller_a.pk])
    response = client_for("reseller_a").post(
        url,
        {
            "action": "save",
            "low_credit_threshold": "2,5",
            "emails": "not-an-address",
            "webhook_url": "ftp://hooks.example.com/",
        },
    )
    errors = response.context["form"].errors
    assert errors["low_credit_threshold"] == ["Use a dot as the decimal separator."]
    assert errors["emails"] == ["not-an-address is not an e-mail address."]
    assert "http:// or https://" in errors["webhook_url"][0]


def test_a_private_webhook_address_is_refused_unless_an_admin_allows_it(client_for, reseller_a):
    url = reverse("notifications:reseller", args=[reseller_a.pk])
    data = {"action": "save", "webhook_url": "http://127.0.0.1:8190/hook"}
    response = client_for("reseller_a").post(url, data)
    assert "loopback, private or link-local" in response.context["form"].errors["webhook_url"][0]
    client_for("admin").post(
        reverse("notifications:server"), {"action": "save", "allow_private_webhooks": "on"}
    )
    assert server_settings().allow_private_webhooks
    assert client_for("reseller_a").post(url, data).status_code == 302


def test_a_test_event_goes_to_this_pages_channels(
    client_for, reseller_a, django_capture_on_commit_callbacks, mailoutbox
):
    ChannelSettings.objects.create(reseller=reseller_a, emails="ops@example.com")
    url = reverse("notifications:reseller", args=[reseller_a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for("reseller_a").post(url, {"action": "test"}, follow=True)
    event = Event.objects.get(type=EventType.TEST)
    item = Delivery.objects.get(event=event)
    # The suite runs tasks inside the caller, after the commit.
    assert item.state == DeliveryState.DELIVERED
    assert mailoutbox[0].subject == "[Callback Manager] Test notification"
    assert "Delivery log" in page.content.decode() and "ops@example.com" in page.content.decode()


def test_retry_now_makes_a_given_up_delivery_due_and_delivers_it(client_for, reseller_a):
    row = ChannelSettings.objects.create(reseller=reseller_a, emails="ops@example.com")
    event = emit(type=EventType.TEST, reseller_id=reseller_a.pk, data={})
    item = Delivery.objects.get(event=event, settings=row)
    Delivery.objects.filter(pk=item.pk).update(state=DeliveryState.FAILED, attempts=12)
    assert (
        client_for("reseller_b").post(reverse("notifications:retry", args=[item.pk])).status_code
        == 404
    )
    assert (
        client_for("staff_a").post(reverse("notifications:retry", args=[item.pk])).status_code
        == 403
    )
    response = client_for("reseller_a").post(reverse("notifications:retry", args=[item.pk]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.attempts) == (DeliveryState.DELIVERED, 13)


def test_a_reseller_cannot_retry_the_servers_deliveries(client_for, reseller_a):
    server = server_settings()
    server.emails = "noc@example.com"
    server.save()
    event = emit(type=EventType.TEST, reseller_id=reseller_a.pk, data={})
    item = Delivery.objects.get(event=event, settings=server)
    response = client_for("reseller_a").post(reverse("notifications:retry", args=[item.pk]))
    assert response.status_code == 404


def test_pages_use_a_bounded_number_of_queries(
    client_for, reseller_a, reseller_b, django_assert_max_num_queries
):
    row = ChannelSettings.objects.create(reseller=reseller_a, emails="ops@example.com")
    for _ in range(60):
        emit(type=EventType.TEST, reseller_id=reseller_a.pk, data={"message": "x"})
    assert Delivery.objects.filter(settings=row).count() == 60
    client = client_for("admin")
    with django_assert_max_num_queries(12):
        assert (
            client.get(reverse("notifications:reseller", args=[reseller_a.pk])).status_code == 200
        )
    with django_assert_max_num_queries(12):
        assert client.get(reverse("notifications:server")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("notifications:index")).status_code == 200
