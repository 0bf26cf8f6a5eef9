"""Callback extensions and the destination rules of the server and of each reseller."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

from tenancy.models import Organization, Reseller

EXTENSION_NUMBER_RE = r"^[0-9]{1,10}(\*[0-9]{1,10})?$"


class ReturnMode(models.TextChoices):
    AUTHORIZED = "authorized", "coming from the authorized callerIDs"
    CALLER = "caller", "to the caller callerID"
    FIXED = "fixed", "to a fixed number"


class OutboundCallerIDMode(models.TextChoices):
    SERVER = "server", "set by server"
    USER = "user", "set by user"
    CALLER = "caller", "the caller's own number"


class CallbackExtension(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="extensions"
    )
    number = models.CharField(
        max_length=21,
        unique=True,
        validators=[
            RegexValidator(
                EXTENSION_NUMBER_RE,
                "Use 1 to 10 digits, optionally followed by * and 1 to 10 digits (e.g. 0003*001).",
            )
        ],
        verbose_name="extension number",
    )
    name = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    trigger_after_seconds = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        verbose_name="trigger call return after (seconds of ringing)",
    )
    return_mode = models.CharField(
        max_length=12,
        choices=ReturnMode.choices,
        default=ReturnMode.AUTHORIZED,
        verbose_name="return calls",
    )
    fixed_number = models.CharField(
        max_length=16, blank=True, verbose_name="number where calls should be returned"
    )
    disconnect_sound = models.CharField(
        max_length=100,
        blank=True,
        verbose_name="play before disconnecting the call during conversation",
    )
    min_credit = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="do not call back if available credit is below",
    )
    pin_lock_limit = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(20)],
        verbose_name="lock a CallerID after this many wrong PINs in a row",
    )
    dial_timeout_seconds = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        verbose_name="caller must dial the destination within (seconds)",
    )
    outbound_callerid_mode = models.CharField(
        max_length=10,
        choices=OutboundCallerIDMode.choices,
        default=OutboundCallerIDMode.SERVER,
        verbose_name="CallerID number in public calls",
    )
    outbound_callerid = models.CharField(
        max_length=16, blank=True, verbose_name="CallerID number (set by user)"
    )
    # Call admission (SPEC §11): the hard limits calls/start answers and enforces.
    max_call_duration_seconds = models.PositiveIntegerField(
        default=3600,
        validators=[MinValueValidator(60), MaxValueValidator(86400)],
        verbose_name="maximum call duration (seconds)",
    )
    # None = no limit.
    max_calls_per_callerid = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=1,
        validators=[MinValueValidator(1)],
        verbose_name="maximum simultaneous calls per CallerID",
    )
    max_calls = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="maximum simultaneous calls on this extension",
    )
    daily_limit = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="daily spending limit per CallerID",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trigger_after_seconds__gte=1, trigger_after_seconds__lte=60),
                name="extension_trigger_range",
            ),
            models.CheckConstraint(
                condition=models.Q(dial_timeout_seconds__gte=1, dial_timeout_seconds__lte=60),
                name="extension_dial_timeout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pin_lock_limit__lte=20), name="extension_pin_lock_range"
            ),
            models.CheckConstraint(
                condition=models.Q(min_credit__gte=0), name="extension_min_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    max_call_duration_seconds__gte=60, max_call_duration_seconds__lte=86400
                ),
                name="extension_max_call_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_calls_per_callerid__gte=1)
                | models.Q(max_calls_per_callerid__isnull=True),
                name="extension_max_calls_per_callerid_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(max_calls__gte=1) | models.Q(max_calls__isnull=True),
                name="extension_max_calls_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(daily_limit__gte=0) | models.Q(daily_limit__isnull=True),
                name="extension_daily_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DestinationRules(models.Model):
    """Where calls may go (SPEC §11): one set for the server (reseller None), one per
    reseller; a call must pass both. Changed by the destination-rules page, audited."""

    reseller = models.OneToOneField(
        Reseller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="destination_rules",
    )
    # E.164 prefixes ("+882"), one per entry, normalized to "+" and digits.
    blocked_prefixes = models.JSONField(default=list, blank=True)
    # ISO 3166-1 alpha-2 codes; empty = every country.
    allowed_countries = models.JSONField(default=list, blank=True)
    refuse_premium = models.BooleanField(
        default=True, verbose_name="refuse premium-rate and shared-cost numbers"
    )
    max_rate_per_minute = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="maximum rate per minute",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "destination rules"
        constraints = [
            # One server-wide row (reseller NULL): NULLs are distinct in a plain unique key.
            models.UniqueConstraint(
                Coalesce("reseller", Value(0)), name="destination_rules_one_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"Destination rules of {self.reseller or 'the server'}"
