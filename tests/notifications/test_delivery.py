"""Delivering events (SPEC §12): signed webhooks to a real local HTTP server, retries with
backoff, the address guard, and e-mail through a real SMTP server."""

import hashlib
import hmac
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from notifications import delivery, webhooks
from notifications.models import Delivery, DeliveryState, EventType
from notifications.services import emit
from notifications.webhooks import WebhookRefused, check_webhook_url
from tenancy.audit import SYSTEM
from tests.notifications.support import Charger, Receiver, allow_private, set_channels
from tests.notifications.test_events import new_callerid

D = Decimal
pytestmark = pytest.mark.django_db

# One port per test (from this project's 8190-8199), so parallel test workers never share one.
SIGNED_PORT, RETRY_PORT, TIMEOUT_PORT, SMTP_PORT, TASK_PORT = 8192, 8191, 8193, 8194, 8195
REFUSED_PORT, CLOSED_PORT = 8190, 8199


def low_credit_event(reseller, extension, **channels):
    set_channels(reseller, threshold=D("5"), **channels)
    callerid = new_callerid(extension, "12")
    Charger(extension, callerid).charge("8")
    return callerid, Delivery.objects.get(event__type=EventType.CREDIT_LOW)


def valid_signature(headers, body: bytes, secret: str) -> bool:
    parts = dict(item.split("=", 1) for item in headers["X-CBM-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


def test_the_receiver_sees_a_valid_signature_and_the_event(reseller_a, extension_a):
    allow_private()
    with Receiver(SIGNED_PORT, [200]) as receiver:
        callerid, item = low_credit_event(reseller_a, extension_a, webhook_url=receiver.url)
        assert delivery.deliver(item.pk) is True
    request = receiver.requests[0]
    assert valid_signature(request["headers"], request["body"], "whsec_test")
    assert not valid_signature(request["headers"], request["body"], "whsec_other")
    body = receiver.json()
    assert set(body) == {"id", "type", "created_at", "reseller", "data"}
    assert body["id"] == str(item.event_id)
    assert body["type"] == "credit.low"
    assert body["reseller"] == {"id": reseller_a.pk, "name": reseller_a.name}
    assert body["data"]["callerid"]["number"] == callerid.number
    assert body["data"]["balance"] == "4.0000"
    item.refresh_from_db()
    assert (item.state, item.attempts, item.last_answer) == (
        DeliveryState.DELIVERED,
        1,
        "HTTP 200 OK",
    )


def test_a_500_is_retried_with_backoff_and_the_retry_succeeds(reseller_a, extension_a):
    allow_private()
    with Receiver(RETRY_PORT, [500, 200]) as receiver:
        _callerid, item = low_credit_event(reseller_a, extension_a, webhook_url=receiver.url)
        now = timezone.now()
        assert delivery.deliver(item.pk, now=now) is False
        item.refresh_from_db()
        assert item.state == DeliveryState.PENDING
        assert item.last_answer.startswith("HTTP 500")
        assert item.next_attempt_at == now + timedelta(seconds=30)
        # Not due yet: the sweep leaves it alone.
        assert delivery.deliver(item.pk, now=now + timedelta(seconds=10)) is None
        assert delivery.deliver_due(now=now + timedelta(seconds=31)) == 1
    item.refresh_from_db()
    assert (item.state, item.attempts) == (DeliveryState.DELIVERED, 2)
    # The same event id both times: the receiver can drop a duplicate.
    assert receiver.json(0)["id"] == receiver.json(1)["id"] == str(item.event_id)


def test_a_timeout_is_retried(reseller_a, extension_a, monkeypatch):
    allow_private()
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    with Receiver(TIMEOUT_PORT, [("sleep", 1.5), 200]) as receiver:
        _callerid, item = low_credit_event(reseller_a, extension_a, webhook_url=receiver.url)
        now = timezone.now()
        assert delivery.deliver(item.pk, now=now) is False
        item.refresh_from_db()
        assert item.last_answer.startswith("timeout")
        assert item.state == DeliveryState.PENDING
        assert delivery.deliver(item.pk, now=now + timedelta(seconds=31)) is True
    assert len(receiver.requests) == 2


def test_backoff_doubles_and_gives_up_after_24_hours(reseller_a, extension_a):
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert delivery.backoff(20) == timedelta(hours=2)
    allow_private()
    _callerid, item = low_credit_event(
        reseller_a, extension_a, webhook_url=f"http://127.0.0.1:{CLOSED_PORT}/closed"
    )
    start = item.event.created_at
    now = start
    while True:
        assert delivery.deliver(item.pk, now=now) is False
        item.refresh_from_db()
        if item.state != DeliveryState.PENDING:
            break
        now = item.next_attempt_at
    assert item.state == DeliveryState.FAILED
    assert now - start <= timedelta(hours=24)
    assert item.attempts >= 15
    # "Retry now" makes it due again.
    delivery.retry_now(item)
    item.refresh_from_db()
    assert item.state == DeliveryState.PENDING and item.next_attempt_at <= timezone.now()


def test_the_task_after_commit_delivers_the_event(
    reseller_a, extension_a, django_capture_on_commit_callbacks
):
    allow_private()
    with Receiver(TASK_PORT, [200]) as receiver, django_capture_on_commit_callbacks(execute=True):
        _callerid, item = low_credit_event(reseller_a, extension_a, webhook_url=receiver.url)
    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED
    assert receiver.json()["type"] == "credit.low"


def fake_dns(monkeypatch, address):
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.1.9"])
def test_a_url_resolving_to_a_private_address_is_refused_unless_allowed(monkeypatch, address):
    fake_dns(monkeypatch, address)
    with pytest.raises(WebhookRefused, match="loopback, private or link-local"):
        check_webhook_url("https://hooks.example.test/cbm", allow_private=False)
    # Allowed: the guard passes and pins the address it resolved (nothing is sent here).
    target = check_webhook_url("https://hooks.example.test/cbm", allow_private=True)
    assert (target.address, target.host, target.port) == (address, "hooks.example.test", 443)


def test_loopback_literals_and_other_schemes_are_refused():
    for url in ("http://127.0.0.1:8190/", "http://[::1]/x", "http://localhost/", "http://0.0.0.0/"):
        with pytest.raises(WebhookRefused):
            check_webhook_url(url, allow_private=False)
    for url in ("ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://"):
        with pytest.raises(WebhookRefused):
            check_webhook_url(url, allow_private=True)


def test_a_refused_url_is_never_contacted_at_delivery(reseller_a, extension_a):
    allow_private(False)
    with Receiver(REFUSED_PORT, [200]) as receiver:
        _callerid, item = low_credit_event(reseller_a, extension_a, webhook_url=receiver.url)
        assert delivery.deliver(item.pk) is False
    assert receiver.requests == []
    item.refresh_from_db()
    assert item.last_answer.startswith("refused:")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


def test_a_real_smtp_round_trip_carries_callerid_balance_and_link(
    reseller_a, extension_a, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", SMTP_PORT
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        callerid, item = low_credit_event(reseller_a, extension_a, emails=["ops@example.com"])
        assert delivery.deliver(item.pk) is True
    finally:
        controller.stop()
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["ops@example.com"]
    text = envelope.content.decode()
    assert f"Low credit: CallerID {callerid.number}" in text
    assert "Balance: 4.0000" in text
    assert f"http://127.0.0.1:8000/callerids/{callerid.pk}/credit/" in text


def test_an_smtp_failure_is_a_failed_attempt(reseller_a, extension_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 8199, 2
    _callerid, item = low_credit_event(reseller_a, extension_a, emails=["ops@example.com"])
    assert delivery.deliver(item.pk) is False
    item.refresh_from_db()
    assert item.state == DeliveryState.PENDING and item.last_answer.startswith("error:")


def test_an_event_without_channels_has_no_delivery(reseller_a):
    event = emit(type=EventType.TEST, reseller_id=reseller_a.pk, data={})
    assert not Delivery.objects.filter(event=event).exists()
    assert SYSTEM.label == "system"
