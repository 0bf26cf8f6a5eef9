"""Resellers, organizations, users' roles, callback extensions, audit events and API tokens."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce, Lower

EXTENSION_NUMBER_RE = r"^[0-9]{1,10}(\*[0-9]{1,10})?$"


class Reseller(models.Model):
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    # Its share of the license: None = no own cap (only the server's license applies).
    max_active_callerids = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="maximum active CallerIDs"
    )
    may_grant_unlimited = models.BooleanField(default=False, verbose_name="may grant Unlimited")
    # Enabled CallerIDs under this reseller, kept in the same transaction as every status
    # change (like the license counter) so the share check never counts rows.
    active_callerids = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="reseller_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(
                "reseller", Lower("name"), name="organization_name_unique_per_reseller_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    RESELLER = "reseller", "Reseller"
    STAFF = "staff", "Staff (read-only)"


class UserProfile(models.Model):
    """The one role of a user and what it is bound to (SPEC §2)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    # reseller role: required; staff: a reseller, or None for the whole server; admin: None.
    reseller = models.ForeignKey(
        Reseller, on_delete=models.PROTECT, null=True, blank=True, related_name="profiles"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="admin", reseller__isnull=True)
                    | models.Q(role="reseller", reseller__isnull=False)
                    | models.Q(role="staff")
                ),
                name="profile_role_binding_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


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


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, with the values before and after."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_token = models.ForeignKey(
        "callback.ApiToken",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_label = models.CharField(max_length=150, blank=True)  # username or token name, kept
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The reseller the object belongs to, so reseller-scoped views can filter cheaply.
    reseller = models.ForeignKey(
        Reseller, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The audit log's pages, by key in either direction (callback.views.audit).
            models.Index(fields=["created_at", "id"], name="audit_created_id"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class ApiToken(models.Model):
    """A PBX's bearer token: `cbm_<prefix>_<secret>`; only the prefix and SHA-256 are kept."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    # None = the whole server; else only that reseller's extensions and CallerIDs.
    reseller = models.ForeignKey(
        Reseller, on_delete=models.PROTECT, null=True, blank=True, related_name="api_tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the token may call (SPEC §13): the PBX's questions (§9, §11) and/or the
    # provisioning API. Two columns rather than a list: the PBX's token lookup reads them
    # in the same prepared SELECT, for free.
    may_pbx = models.BooleanField(default=True, verbose_name="PBX")
    may_provision = models.BooleanField(default=False, verbose_name="provisioning")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def permissions(self) -> list[str]:
        return [
            name
            for name, allowed in (
                (TokenPermission.PBX, self.may_pbx),
                (TokenPermission.PROVISIONING, self.may_provision),
            )
            if allowed
        ]


class TokenPermission(models.TextChoices):
    PBX = "pbx", "PBX (authorize, PINs, calls, credit)"
    PROVISIONING = "provisioning", "Provisioning (manage CallerIDs, recharge credit)"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a token sent with a write of the provisioning API (SPEC §13),
    with the request's fingerprint and the answer, so the same request sent again gets
    the same answer and changes nothing. Written in the same transaction as the write;
    the unique constraint makes a concurrent request with the same key wait for it."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is a conflict.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "key"], name="idempotency_key_unique_per_token"
            )
        ]

    def __str__(self) -> str:
        return self.key
