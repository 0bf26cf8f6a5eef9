"""Deliver the outbox (SPEC §12): at least once, retried with exponential backoff for 24 h.

A delivery is taken by a conditional UPDATE (claimed_until): two workers never send one
delivery at the same time, no transaction is held while a webhook answers, and a worker
that dies after sending leaves the claim to expire, so the delivery is sent again — the
event id lets the receiver drop the duplicate.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from notifications import webhooks
from notifications.models import Channel, Delivery, DeliveryState, Event, EventType
from notifications.selectors import server_settings

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=2)
CLAIM_FOR = timedelta(seconds=60)
SWEEP_BATCH = 200


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most 2 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def payload(event: Event) -> bytes:
    reseller = None
    if event.reseller_id is not None:
        reseller = {"id": event.reseller_id, "name": event.reseller.name}
    body = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "reseller": reseller,
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _claim(delivery_id: int, now: datetime, *, force: bool = False) -> bool:
    due = Q(state=DeliveryState.PENDING) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if not force:
        due &= Q(next_attempt_at__lte=now)
    return bool(Delivery.objects.filter(due, pk=delivery_id).update(claimed_until=now + CLAIM_FOR))


def deliver(delivery_id: int, *, now: datetime | None = None) -> bool | None:
    """Try one due delivery once. True: delivered; False: failed (retry planned or given
    up); None: not due, or taken by another worker."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("event__reseller", "settings").get(pk=delivery_id)
    event = delivery.event
    if delivery.channel == Channel.WEBHOOK:
        ok, answer = _send_webhook(delivery, event, now)
    else:
        ok, answer = _send_email(delivery, event)
    attempts = delivery.attempts + 1
    values = {
        "attempts": attempts,
        "last_answer": answer[:300],
        "last_attempt_at": now,
        "claimed_until": None,
    }
    if ok:
        values.update(state=DeliveryState.DELIVERED, delivered_at=now, next_attempt_at=None)
    else:
        retry_at = now + backoff(attempts)
        if retry_at > event.created_at + RETRY_FOR:
            values.update(state=DeliveryState.FAILED, next_attempt_at=None)
            logger.warning("notification %s gave up after %s attempts", delivery_id, attempts)
        else:
            values.update(next_attempt_at=retry_at)
    Delivery.objects.filter(pk=delivery_id).update(**values)
    return ok


def _send_webhook(delivery: Delivery, event: Event, now: datetime) -> tuple[bool, str]:
    row = delivery.settings
    allow = server_settings().allow_private_webhooks
    return webhooks.post(
        delivery.target,
        body=payload(event),
        secret=row.webhook_secret,
        timestamp=int(now.timestamp()),
        allow_private=allow,
    )


SUBJECTS = {
    EventType.CREDIT_LOW: "Low credit: CallerID {number}",
    EventType.CREDIT_EXHAUSTED: "Credit exhausted: CallerID {number}",
    EventType.CALLERID_LOCKED: "CallerID {number} locked after wrong PINs",
    EventType.DAILY_LIMIT_REACHED: "Daily limit reached: CallerID {number}",
    EventType.RECHARGE_APPLIED: "Recharge applied: CallerID {number}",
    EventType.TEST: "Test notification",
}


def _send_email(delivery: Delivery, event: Event) -> tuple[bool, str]:
    number = event.data.get("callerid", {}).get("number", "")
    subject = "[Callback Manager] " + SUBJECTS.get(event.type, event.type).format(number=number)
    body = render_to_string(
        "notifications/email.txt", {"event": event, "data": event.data, "type": event.type}
    )
    recipients = [address.strip() for address in delivery.target.split(",") if address.strip()]
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as exc:  # noqa: BLE001 - any SMTP failure is a failed attempt
        return False, f"error: {exc.__class__.__name__}: {exc}"[:300]
    return True, f"sent to {len(recipients)} address(es)"


def deliver_event(event_id: str) -> int:
    """Deliver what is due of one event; the number delivered."""
    delivered = 0
    for pk in Delivery.objects.filter(event_id=event_id, state=DeliveryState.PENDING).values_list(
        "pk", flat=True
    ):
        delivered += bool(deliver(pk))
    return delivered


def deliver_due(*, now: datetime | None = None) -> int:
    """Every due delivery (retries, and events whose task was lost); the number tried."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in ids:
        deliver(pk, now=now)
    return len(ids)


def retry_now(delivery: Delivery) -> None:
    """Make a delivery due now, even one given up on (the page's "Retry now")."""
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )
