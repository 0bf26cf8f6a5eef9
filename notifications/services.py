"""Record notification events (SPEC §12): the outbox written inside the money change's
transaction, delivered after the commit by a task.

Events fire on crossings only. A limited CallerID's credit is before → after across one
change (its row is locked by the caller, so changes of one CallerID are serialized and
every crossing is seen by exactly one change):
- credit.low: before ≥ threshold > after (Unlimited counts as above any threshold). A
  recharge back to ≥ threshold re-arms it: the next fall below fires again.
- credit.exhausted: before > 0 (or Unlimited) and after = 0.
The threshold is the reseller's, or the server's when the reseller has none.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, ChannelSettings, Delivery, Event, EventType
from notifications.selectors import server_settings, threshold_for
from notifications.tasks import deliver_event_task
from notifications.webhooks import check_webhook_url
from tenancy.audit import Actor, record
from values.errors import DomainError

logger = logging.getLogger(__name__)


def crossings(before: Decimal | None, after: Decimal | None, threshold: Decimal | None) -> list:
    """The credit events of one change from `before` to `after` (None: Unlimited)."""
    if after is None:
        return []
    events = []
    if threshold is not None and after < threshold and (before is None or before >= threshold):
        events.append(EventType.CREDIT_LOW)
    if after == 0 and (before is None or before > 0):
        events.append(EventType.CREDIT_EXHAUSTED)
    return events


def credit_changed(
    *,
    callerid_id: int,
    reseller_id: int,
    before: Decimal | None,
    after: Decimal | None,
    recharge: dict | None = None,
    describe: Callable[..., dict],
) -> list[Event]:
    """Record the events of one credit change; call it inside the change's transaction,
    after the CallerID's row lock. `recharge` (kind, amount, order number) adds a
    recharge.applied event. No query at all when nothing fires."""
    types = crossings(before, after, threshold_for(reseller_id))
    if recharge is not None:
        types.append(EventType.RECHARGE_APPLIED)
    if not types:
        return []
    data = describe(callerid_id, balance=after)
    threshold = threshold_for(reseller_id)
    events = []
    for type_ in types:
        extra = {}
        if type_ == EventType.CREDIT_LOW:
            extra["threshold"] = str(threshold)
        if type_ == EventType.RECHARGE_APPLIED:
            extra["recharge"] = recharge
        events.append(emit(type=type_, reseller_id=reseller_id, data={**data, **extra}))
    return events


def emit(*, type: str, reseller_id: int | None, data: dict) -> Event:
    """Write one event and a delivery per channel (the reseller's, then the server's), in
    the caller's transaction; after the commit a task delivers them."""
    now = timezone.now()
    event = Event.objects.create(type=type, reseller_id=reseller_id, data=data, created_at=now)
    rows = ChannelSettings.objects.filter(reseller_id=reseller_id) if reseller_id else []
    channels = [*rows, server_settings()]
    deliveries = [delivery for row in channels for delivery in _deliveries(event, row, now)]
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        transaction.on_commit(lambda: _enqueue_event(event.pk))
    return event


def _deliveries(event: Event, row: ChannelSettings, now) -> list[Delivery]:
    """The unsaved deliveries of `event` on one channel row: its webhook, its e-mail list."""
    deliveries = []
    if row.webhook_url:
        deliveries.append(
            Delivery(
                event=event,
                settings=row,
                channel=Channel.WEBHOOK,
                target=row.webhook_url,
                next_attempt_at=now,
            )
        )
    if row.email_list:
        deliveries.append(
            Delivery(
                event=event,
                settings=row,
                channel=Channel.EMAIL,
                target=", ".join(row.email_list),
                next_attempt_at=now,
            )
        )
    return deliveries


def _enqueue_event(event_id) -> None:
    try:
        deliver_event_task.enqueue(str(event_id))
    except Exception:  # noqa: BLE001 - e.g. Redis down: the minute sweep delivers it
        logger.warning(
            "notification event %s: enqueue failed; the sweep will deliver it",
            event_id,
            exc_info=True,
        )


def update_settings(
    *,
    actor: Actor,
    row: ChannelSettings,
    low_credit_threshold: Decimal | None,
    emails: list[str],
    webhook_url: str,
    allow_private_webhooks: bool | None = None,
) -> ChannelSettings:
    """Change a channel row (the view checked the actor may). Refuses a webhook URL the
    SSRF guard refuses (with the server's allowance). Audited."""
    with transaction.atomic():
        row = ChannelSettings.objects.select_for_update().get(pk=row.pk)
        allow = server_settings().allow_private_webhooks
        if row.reseller_id is None and allow_private_webhooks is not None:
            allow = allow_private_webhooks
        if webhook_url:
            check_webhook_url(webhook_url, allow_private=allow)
        fields = ["low_credit_threshold", "emails", "webhook_url", "allow_private_webhooks"]
        before = {name: getattr(row, name) for name in fields}
        row.low_credit_threshold = low_credit_threshold
        row.emails = "\n".join(emails)
        row.webhook_url = webhook_url
        if row.reseller_id is None and allow_private_webhooks is not None:
            row.allow_private_webhooks = allow_private_webhooks
        made_secret = None
        if webhook_url and not row.webhook_secret:
            made_secret = row.webhook_secret = _new_secret()
        row.save()
        record(
            actor=actor,
            action="notifications.update",
            obj=row.reseller,
            before=before,
            after={name: getattr(row, name) for name in fields},
            reseller=row.reseller,
            object_repr=str(row),
        )
    row.new_secret = made_secret
    return row


def _new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def rotate_secret(*, actor: Actor, row: ChannelSettings) -> str:
    """A new webhook secret, returned to be shown once. Audited (as "changed")."""
    with transaction.atomic():
        row = ChannelSettings.objects.select_for_update().get(pk=row.pk)
        if not row.webhook_url:
            raise DomainError("Set a webhook URL first.")
        secret = _new_secret()
        old = row.webhook_secret
        row.webhook_secret = secret
        row.save(update_fields=["webhook_secret", "updated_at"])
        record(
            actor=actor,
            action="notifications.rotate_secret",
            obj=row.reseller,
            before={"secret": old},
            after={"secret": secret},
            reseller=row.reseller,
            object_repr=str(row),
        )
    return secret


def send_test_event(*, actor: Actor, row: ChannelSettings) -> Event:
    """A `test` event to this row's channels only."""
    with transaction.atomic():
        now = timezone.now()
        event = Event.objects.create(
            type=EventType.TEST,
            reseller=row.reseller,
            data={"message": "A test event from the Callback Manager.", "sent_by": actor.label},
            created_at=now,
        )
        deliveries = _deliveries(event, row, now)
        if not deliveries:
            raise DomainError("Set an e-mail address or a webhook URL first.")
        Delivery.objects.bulk_create(deliveries)
        transaction.on_commit(lambda: _enqueue_event(event.pk))
    return event
