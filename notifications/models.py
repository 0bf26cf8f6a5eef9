"""Notification channels, the event outbox and its deliveries (SPEC §12)."""

import uuid

from django.db import models


class EventType(models.TextChoices):
    CREDIT_LOW = "credit.low", "Credit low"
    CREDIT_EXHAUSTED = "credit.exhausted", "Credit exhausted"
    CALLERID_LOCKED = "callerid.locked", "CallerID locked (PIN)"
    DAILY_LIMIT_REACHED = "daily_limit.reached", "Daily limit reached"
    RECHARGE_APPLIED = "recharge.applied", "Recharge applied"
    TEST = "test", "Test event"


class ChannelSettings(models.Model):
    """One reseller's channels, or the server's (reseller None, admins only).

    The secret is kept in clear: it signs every webhook body (HMAC), so it cannot be a hash.
    It is shown once when made and never again.
    """

    reseller = models.OneToOneField(
        "tenancy.Reseller",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_settings",
    )
    # credit.low fires when a limited CallerID's available credit goes from ≥ this to below.
    low_credit_threshold = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True
    )
    emails = models.TextField(blank=True, help_text="One address per line.")
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    # Server row only: webhooks may go to loopback, private and link-local addresses.
    allow_private_webhooks = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notifications of {self.reseller or 'the server'}"

    @property
    def email_list(self) -> list[str]:
        return [
            line.strip() for line in self.emails.replace(",", "\n").splitlines() if line.strip()
        ]


class Event(models.Model):
    """The outbox: written in the same transaction as the change it reports."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    reseller = models.ForeignKey(
        "tenancy.Reseller", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class Delivery(models.Model):
    """One event to one channel of one settings row (the reseller's or the server's)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # Whose channel: the reseller's settings row, or the server's.
    settings = models.ForeignKey(ChannelSettings, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.TextField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_answer = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker that takes the delivery sets this; another worker skips it until then.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event.type} by {self.channel} to {self.target}"


class PeriodicRun(models.Model):
    """When each periodic task was last enqueued: every worker runs the scheduler, and this
    row (locked) makes one tick enqueue once however many workers run."""

    name = models.CharField(max_length=200, unique=True)
    last_enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
