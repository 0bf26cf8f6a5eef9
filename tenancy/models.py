"""Who is who: resellers, organizations, users' roles, audit events, API tokens, and the
server's preferences (currency, decimals, default country) every app reads."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

# The largest CallerID maximum of the server's license or of a reseller's share.
MAX_LICENSE = 10_000_000


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
        "tenancy.ApiToken",
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
            # The audit log's pages, by key in either direction (tenancy.views.audit).
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


class ChargingPreferences(models.Model):
    """One row: server currency, decimals shown, default country for phone numbers."""

    currency = models.CharField(max_length=3, default="EUR")
    decimals = models.PositiveSmallIntegerField(default=2, verbose_name="decimals shown")
    default_country = models.CharField(
        max_length=2, blank=True, verbose_name="default country for phone numbers"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "charging preferences"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="charging_single_row"),
            models.CheckConstraint(
                condition=models.Q(decimals__lte=4), name="charging_decimals_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency}, {self.decimals} decimals"
