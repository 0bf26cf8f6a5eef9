"""Authorized CallerIDs and the server license."""

from django.conf import settings
from django.db import models


class License(models.Model):
    """One row: the cap on enabled CallerIDs and the live count, changed together (SPEC §2)."""

    max_active_callerids = models.PositiveIntegerField(
        verbose_name="maximum active authorized CallerIDs"
    )
    active_callerids = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="license_single_row"),
        ]

    def __str__(self) -> str:
        return f"{self.active_callerids} of {self.max_active_callerids}"


class CreditTotals(models.Model):
    """Per reseller: the credit outstanding on its CallerIDs and how many are Unlimited
    (SPEC §14), kept in the same transaction as every balance or status change, like the
    license counters, so the panel home never sums a million rows.

    outstanding: the sum of the balances of its limited CallerIDs that are not removed;
    unlimited: how many of its CallerIDs that are not removed are Unlimited. Written only
    by callerids.services.credit_totals; `manage.py panel_totals` proves both.
    """

    reseller = models.OneToOneField(
        "tenancy.Reseller", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    # A sum of up to millions of balances: more digits than one balance.
    outstanding = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    # No CHECK (>= 0) on these: they are a derived count, and a CallerID written around
    # the services (a repair in the Django shell) must not make every later call report
    # fail; `manage.py panel_totals` reports any drift and `--rebuild` repairs it.
    unlimited = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "credit totals"

    def __str__(self) -> str:
        return f"{self.outstanding} outstanding, {self.unlimited} unlimited"


class CallerIDStatus(models.TextChoices):
    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"
    REMOVED = "removed", "Removed"


# How a CallerID's status is written (lists, exports): its label, and the reason in brackets
# when the system disabled it. Declared once here; status_label() writes it in Python and
# status_label_sql() in SQL (the exports' COPY path), both from these two tables.
STATUS_LABELS = dict(CallerIDStatus.choices)
WITH_REASON = {CallerIDStatus.DISABLED: "{label} ({reason})"}


def status_label(status: str, reason: str) -> str:
    label = STATUS_LABELS.get(status, status)
    template = WITH_REASON.get(status)
    return template.format(label=label, reason=reason) if template and reason else label


def status_label_sql(status: str, reason: str) -> tuple[str, list]:
    """status_label() as an SQL expression over the columns `status` and `reason`:
    (sql, params), generated from STATUS_LABELS and WITH_REASON."""
    whens, params = [], []
    for value, template in WITH_REASON.items():
        before, after = template.format(label=STATUS_LABELS[value], reason="\0").split("\0")
        whens.append(f"WHEN {status} = %s AND {reason} <> '' THEN %s || {reason} || %s")
        params += [str(value), before, after]
    for value, label in STATUS_LABELS.items():
        whens.append(f"WHEN {status} = %s THEN %s")
        params += [str(value), label]
    return f"CASE {' '.join(whens)} ELSE {status} END", params


# status_reason of a CallerID the PIN check disabled after too many wrong PINs (SPEC §9).
LOCKED_REASON = "locked"
# The credit columns: what a credit change writes and what its audit event records.
CREDIT_FIELDS = ["unlimited", "available", "total"]
# The refusal of any change to a removed CallerID (it is frozen, SPEC §4).
REMOVED_MESSAGE = "This CallerID was removed."


class AuthorizedCallerID(models.Model):
    extension = models.ForeignKey(
        "callback.CallbackExtension", on_delete=models.PROTECT, related_name="callerids"
    )
    # Normalized (SPEC §5.4): E.164 or the digits as typed; 3 to 15 digits.
    number = models.CharField(max_length=16, verbose_name="callback number")
    pin_salt = models.CharField(max_length=32, blank=True, editable=False)
    pin_hash = models.CharField(max_length=64, blank=True, editable=False)
    wrong_pin_count = models.PositiveSmallIntegerField(default=0, editable=False)
    status = models.CharField(
        max_length=10, choices=CallerIDStatus.choices, default=CallerIDStatus.ENABLED
    )
    # Why it is disabled when the system did it, e.g. "locked" after wrong PINs.
    status_reason = models.CharField(max_length=32, blank=True)
    # With status_reason "locked": the extension's wrong-PIN limit when the lock happened,
    # so "Locked after N wrong PINs" stays true after the extension's setting changes.
    locked_after_pins = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    unlimited = models.BooleanField(default=False)
    # Credit left; None exactly when unlimited. Mirrors the last ledger row's balance_after.
    available = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # Total credit granted since creation or the last set_limited (SPEC §6.1); None when
    # unlimited. Kept on the row for the list page; check_ledger proves it.
    total = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "authorized CallerID"
        constraints = [
            models.UniqueConstraint(
                fields=["extension", "number"],
                condition=~models.Q(status="removed"),
                name="callerid_number_unique_per_extension_unless_removed",
            ),
            models.CheckConstraint(
                condition=models.Q(available__gte=0) | models.Q(available__isnull=True),
                name="callerid_available_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(unlimited=True, available__isnull=True, total__isnull=True)
                    | models.Q(unlimited=False, available__isnull=False, total__isnull=False)
                ),
                name="callerid_unlimited_xor_balance",
            ),
        ]
        indexes = [
            models.Index(fields=["extension", "status", "-created_at"]),
            models.Index(fields=["number"]),
            # The list page's orders (callerids.filters.SORTS) among the CallerIDs that
            # are not removed (its default filter): a page is a short index scan, read
            # backwards for the ascending sorts. Sort by number uses the unique constraint.
            models.Index(
                fields=["extension", "-created_at", "-id"],
                condition=~models.Q(status="removed"),
                name="callerid_list_created",
            ),
            models.Index(
                fields=["extension", "-available", "-id"],
                condition=~models.Q(status="removed"),
                name="callerid_list_available",
            ),
            models.Index(
                fields=["extension", "-total", "-id"],
                condition=~models.Q(status="removed"),
                name="callerid_list_total",
            ),
            # The panel home's "low on credit" and "no credit left" over the whole server
            # (a reseller's go through callerid_list_available, extension by extension).
            models.Index(
                fields=["available", "id"],
                condition=~models.Q(status="removed") & models.Q(unlimited=False),
                name="callerid_credit_watch",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    @property
    def is_removed(self) -> bool:
        return self.status == CallerIDStatus.REMOVED


class ImportState(models.TextChoices):
    CHECKING = "checking", "Checking"
    CHECKED = "checked", "Checked"
    CONFIRMING = "confirming", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """An import file between Check and Confirm (SPEC §5.2), kept in the database so any
    machine of a deployment can confirm it.

    `rows` holds the prepared lines (normalized numbers, PINs already hashed, credits as
    typed), zlib-compressed JSON; never the uploaded file, so no plain PIN is kept. It is
    emptied once imported. `state` makes Confirm one-time.
    """

    token = models.UUIDField(unique=True, editable=False)
    extension = models.ForeignKey(
        "callback.CallbackExtension", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    state = models.CharField(
        max_length=10, choices=ImportState.choices, default=ImportState.CHECKED
    )
    # The uploaded file (zlib) while its Check waits for a worker; then emptied (PINs).
    upload = models.BinaryField(default=bytes)
    separator = models.CharField(max_length=4, default=",")
    # The running step's task (Check or Confirm), and why the job failed or changed.
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    notice = models.CharField(max_length=300, blank=True)
    # What the rows were checked with (default country, decimals, may grant Unlimited).
    context = models.JSONField(default=dict)
    rows = models.BinaryField(default=bytes)
    report = models.JSONField(default=dict)
    # Every bad line, zlib-compressed JSON, when the report holds only the first 1,000.
    bad_lines = models.BinaryField(default=bytes)
    outcome = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"


class ImportProgress(models.Model):
    """How far a running Confirm is, written on a second database connection.

    Keyed by the job's token, not a foreign key: the Confirm's transaction locks the job
    row, and a foreign-key check from the second connection would wait for it.
    """

    token = models.UUIDField(unique=True)
    phase = models.CharField(max_length=16, default="waiting")
    # host:pid-namespace:pid of the process running the step; updated_at is its heartbeat.
    worker = models.CharField(max_length=200, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.phase} {self.done}/{self.total}"


class SubmissionKey(models.Model):
    """A form's one-time key once used: a re-sent form changes nothing and shows this outcome.

    Money forms that write exactly one ledger row use LedgerEntry.one_time_key instead;
    this table serves forms that write several rows at once (add up to 10 CallerIDs, import).
    """

    key = models.UUIDField(primary_key=True)
    action = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} {self.key}"
