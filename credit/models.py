"""The ledger of every CallerID and the calls it pays for."""

from django.conf import settings
from django.db import models

from values.money import ORDER_NUMBER_MAX


class LedgerKind(models.TextChoices):
    INITIAL = "initial", "Initial credit"
    RECHARGE = "recharge", "Recharge"
    ADJUSTMENT = "adjustment", "Adjustment"
    SET_UNLIMITED = "set_unlimited", "Set Unlimited"
    SET_LIMITED = "set_limited", "Set limited"
    CALL = "call", "Call"


# The "Type" of a recharge history row, as the pages and exports name it (issue 22).
HISTORY_TYPES = {
    LedgerKind.INITIAL: "Initial credit",
    LedgerKind.RECHARGE: "Recharge",
    LedgerKind.ADJUSTMENT: "Adjustment",
    LedgerKind.SET_UNLIMITED: "Unlimited",
    LedgerKind.SET_LIMITED: "Limit set",
    LedgerKind.CALL: "Call",
}


class LedgerEntry(models.Model):
    """One row of a CallerID's ledger (SPEC §6.1). Never updated, never deleted."""

    callerid = models.ForeignKey(
        "callerids.AuthorizedCallerID", on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    # The amount entered; for a call, minus what was charged; None for set_unlimited.
    amount = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # None while unlimited.
    balance_after = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    order_number = models.CharField(max_length=ORDER_NUMBER_MAX, blank=True)
    # The money form's one-time key (SPEC §6); None for rows not made by a form.
    one_time_key = models.UUIDField(null=True, blank=True, unique=True)
    call = models.OneToOneField(
        "credit.Call", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entry"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)  # "Added by", kept
    # The CallerID's reseller, copied when the row is written (a CallerID never changes
    # reseller): the panel home reads a reseller's latest recharges from one short index.
    # The services always give it; save() fills it for any other writer; null only so that
    # such a writer's bulk insert still works (`manage.py panel_totals` reports a missing
    # one).
    reseller = models.ForeignKey(
        "tenancy.Reseller",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0) | models.Q(balance_after__isnull=True),
                name="ledger_balance_not_negative",
            ),
            models.UniqueConstraint(
                fields=["callerid", "order_number"],
                condition=~models.Q(order_number=""),
                name="ledger_order_number_unique_per_callerid",
            ),
        ]
        indexes = [
            models.Index(fields=["callerid", "id"]),
            # The panel home's "last 10 recharges" (every row but calls), newest first:
            # for one reseller, and for the whole server.
            models.Index(
                fields=["reseller", "-id"],
                condition=~models.Q(kind="call"),
                name="ledger_recent_credit",
            ),
            models.Index(
                fields=["-id"], condition=~models.Q(kind="call"), name="ledger_recent_credit_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} -> {self.balance_after}"

    def save(self, *args, **kwargs):
        if self.reseller_id is None and self.callerid_id is not None:
            self.reseller_id = (
                type(self.callerid)
                .objects.filter(pk=self.callerid_id)
                .values_list("extension__organization__reseller_id", flat=True)
                .first()
            )
        super().save(*args, **kwargs)

    @property
    def type_label(self) -> str:
        return HISTORY_TYPES.get(self.kind, self.kind)


class Call(models.Model):
    """A finished call reported by the PBX (SPEC §9)."""

    call_id = models.CharField(max_length=128, unique=True)
    extension = models.ForeignKey(
        "callback.CallbackExtension", on_delete=models.PROTECT, related_name="calls"
    )
    # None for unmetered calls (the modes that do not use the list).
    callerid = models.ForeignKey(
        "callerids.AuthorizedCallerID",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    caller_id = models.CharField(max_length=64, blank=True)  # as reported
    destination = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField()
    cost = models.DecimalField(max_digits=14, decimal_places=4)
    charged = models.DecimalField(max_digits=14, decimal_places=4)
    shortfall = models.DecimalField(max_digits=14, decimal_places=4)
    metered = models.BooleanField()
    token = models.ForeignKey(
        "tenancy.ApiToken", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["extension", "started_at"]),
            models.Index(fields=["callerid", "started_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost__gte=0, charged__gte=0, shortfall__gte=0),
                name="call_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.call_id


class CallDay(models.Model):
    """The calls of one reseller on one server-time-zone day (of `started_at`), added up
    in the same transaction as each call report: the panel home's today, this month and
    30-day chart read at most 31 rows per reseller instead of summing the calls. Written
    only by credit.call_days; `manage.py panel_totals` proves it."""

    reseller = models.ForeignKey("tenancy.Reseller", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)  # metered
    seconds = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    charged = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    shortfall = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    unmetered_calls = models.PositiveIntegerField(default=0)
    unmetered_seconds = models.PositiveBigIntegerField(default=0)
    unmetered_cost = models.DecimalField(max_digits=24, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "day"], name="callday_one_per_reseller_day"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="callday_day")]

    def __str__(self) -> str:
        return f"{self.reseller_id} {self.day}: {self.calls + self.unmetered_calls} calls"


class HoldStatus(models.TextChoices):
    OPEN = "open", "In progress"
    SETTLED = "settled", "Settled"
    EXPIRED = "expired", "Expired"
    RELEASED = "released", "Released by a user"


class CallHold(models.Model):
    """A call in progress (SPEC §11): asked by `POST /api/v1/calls/start`, it reserves part
    of the CallerID's credit until the call is reported (settled), expires, or a user
    releases it. A reservation, not money: no ledger row. Never deleted."""

    call_id = models.CharField(max_length=128, unique=True)
    extension = models.ForeignKey(
        "callback.CallbackExtension", on_delete=models.PROTECT, related_name="holds"
    )
    # None in the open modes (unmetered: nothing is held, only the limits apply).
    callerid = models.ForeignKey(
        "callerids.AuthorizedCallerID",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holds",
    )
    destination = models.CharField(max_length=64)
    rate_per_minute = models.DecimalField(max_digits=14, decimal_places=4)
    connection_fee = models.DecimalField(max_digits=14, decimal_places=4)
    max_duration_seconds = models.PositiveIntegerField()
    # What the start answered (None for Unlimited and unmetered calls), kept for its replay.
    held = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    available_after = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # What this hold keeps out of the balance while open: `held`, or 0 when nothing is
    # held (Unlimited, unmetered) and once the CallerID was set Unlimited during the call.
    reserved = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    started_at = models.DateTimeField()
    # started_at + max_duration_seconds + the grace for a late report (SPEC §11, Expiry).
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The reported call that settled it.
    settled_call = models.OneToOneField(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="hold"
    )
    token = models.ForeignKey(
        "tenancy.ApiToken", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The open holds of a CallerID / of an extension / due to expire: the hot
            # path's sums and counts read only the open rows.
            models.Index(
                fields=["callerid", "expires_at"],
                condition=models.Q(status="open"),
                name="hold_open_by_callerid",
            ),
            models.Index(
                fields=["extension", "expires_at"],
                condition=models.Q(status="open"),
                name="hold_open_by_extension",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="open"),
                name="hold_open_by_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_per_minute__gte=0, connection_fee__gte=0, reserved__gte=0),
                name="hold_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def is_open(self) -> bool:
        return self.status == HoldStatus.OPEN
