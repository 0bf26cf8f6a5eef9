"""The two steps of an import (SPEC §5.2): Check (keeps the file's prepared rows) and
Confirm (saves every CallerID, or none).

License (SPEC §4): Confirm goes through the rule of every status change
(callerids.services.license): the same locks in the same order (License → Reseller), the
same room (callerids.selectors.room_of) and the same refusal ("Importing 3 would exceed the
license by 1."), shown as the new report's room error; both counters change in the same
transaction as the new CallerIDs.
"""

from __future__ import annotations

import io
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from callback.models import CallbackExtension
from callerids.importing import checking, progress
from callerids.importing.reading import FileRefused, read_file
from callerids.models import (
    AuthorizedCallerID,
    CallerIDStatus,
    ImportJob,
    ImportProgress,
    ImportState,
)
from callerids.selectors import get_license, room_of
from callerids.services import credit_totals
from callerids.services.license import lock_counters
from credit.models import LedgerEntry, LedgerKind
from tenancy import scoping
from tenancy.audit import Actor, record
from tenancy.models import Reseller
from tenancy.preferences import get_preferences
from values.errors import LicenseExceeded

BATCH_SIZE = 2000
JOB_MAX_AGE = timedelta(days=1)


class ImportChanged(Exception):  # noqa: N818 - reads as what happened
    """Confirm found something different from Check: nothing was saved; the job now holds
    the new report."""

    def __init__(self, report: dict):
        super().__init__("Something changed since the check: nothing was imported.")
        self.report = report


@dataclass(frozen=True)
class Outcome:
    count: int
    unlimited: int
    total_credit: Decimal
    already_imported: bool = False


def _context(user, *, reseller: Reseller | None = None) -> checking.Context:
    """Today's rules. With `reseller` (the locked row of the extension's reseller), the
    Unlimited permission is read from it rather than from the user's cached profile."""
    preferences = get_preferences()
    return checking.Context(
        default_country=preferences.default_country or "",
        decimals=preferences.decimals,
        may_grant_unlimited=scoping.may_grant_unlimited(user, reseller=reseller),
        currency=preferences.currency,
    )


def _reseller_of(extension: CallbackExtension) -> Reseller:
    return Reseller.objects.get(pk=extension.organization.reseller_id)


def start_check(
    *, actor: Actor, extension: CallbackExtension, content: bytes, file_name: str, separator: str
) -> ImportJob:
    """Keep an uploaded file for its Check (run by run_check, usually in a task).

    Requires: the actor's user may write to the extension (the view scoped it).
    Changes: creates an ImportJob in state "checking" holding the file; deletes jobs older
    than a day.
    """
    scoping.require_write(actor.user)
    ImportJob.objects.filter(created_at__lt=timezone.now() - JOB_MAX_AGE).delete()
    return ImportJob.objects.create(
        token=uuid.uuid4(),
        extension=extension,
        user=actor.user,
        file_name=file_name[:255],
        state=ImportState.CHECKING,
        # zlib at its fastest level: a 3 MB CSV goes in and out of the database in a
        # fraction of the time it takes as is (bytea's escaping costs per byte).
        upload=zlib.compress(content, 1),
        separator=separator,
    )


def run_check(*, job: ImportJob) -> ImportJob:
    """Check a kept file: the report, and, when every line is good, the prepared rows.

    Raises FileRefused (a DomainError) when the file as a whole cannot be used; the job is
    then "failed" with the reason. Either way the file itself is dropped (it holds PINs).
    """
    user = job.user
    progress.claim(job.token, phase=progress.READING)
    try:
        result = read_file(
            content=zlib.decompress(bytes(job.upload)),
            file_name=job.file_name,
            separator=job.separator,
        )
    except FileRefused as exc:
        job.state, job.error, job.upload = ImportState.FAILED, " ".join(exc.messages), b""
        job.save(update_fields=["state", "error", "upload"])
        progress.finish(job.token, phase=progress.FAILED)
        raise
    progress.finish(job.token, phase=progress.CHECKING, done=0)
    ImportProgress.objects.filter(token=job.token).update(total=len(result.lines))
    context = _context(user)
    evaluation = checking.evaluate(result.lines, context)
    checking.find_existing(evaluation, extension_id=job.extension_id)
    room = room_of(get_license(), _reseller_of(job.extension))
    report = checking.build_report(
        evaluation=evaluation,
        room=room,
        file_name=job.file_name,
        file_format=result.file_format,
        header=result.header,
        lines=len(result.lines),
        context=context,
    )
    job.context = context.as_dict()
    job.rows = checking.pack_rows(evaluation.rows) if report["ok"] else b""
    job.report = report
    job.bad_lines = checking.pack_bad_lines(checking.bad_lines(evaluation))
    job.state = ImportState.CHECKED
    job.upload = b""
    job.error = ""
    job.save(update_fields=["context", "rows", "report", "bad_lines", "state", "upload", "error"])
    progress.finish(job.token, phase=progress.DONE, done=len(result.lines))
    return job


def check_import(
    *, actor: Actor, extension: CallbackExtension, content: bytes, file_name: str, separator: str
) -> ImportJob:
    """Check an uploaded file and keep it for Confirm, here and now (start_check then
    run_check). Raises FileRefused when the file as a whole cannot be used."""
    job = start_check(
        actor=actor, extension=extension, content=content, file_name=file_name, separator=separator
    )
    return run_check(job=job)


def confirm_import(*, actor: Actor, job: ImportJob) -> Outcome:
    """Save every row of a checked job as an enabled CallerID with its `initial` ledger row.

    Requires: job belongs to actor's user and to an extension it may write (the view
    scoped it); must not run inside another transaction for progress to be seen.
    Checks again, under the License and Reseller locks: the rules of each line with today's
    preferences and permission, duplicates, numbers already on the extension, the room.
    Raises ImportChanged (nothing saved; the job gets the new report) when anything differs
    from the check. A second Confirm of the same job changes nothing and returns the first
    outcome with already_imported=True.
    Changes: the CallerIDs, their ledger rows, License.active_callerids,
    Reseller.active_callerids, the job (imported, rows dropped), one audit event.
    """
    scoping.require_write(actor.user)
    if job.state == ImportState.IMPORTED:
        return _outcome(job, already=True)
    rows = checking.unpack_rows(job.rows)
    if not rows or not job.report.get("ok"):
        raise ImportChanged(job.report)
    outermost = not connection.in_atomic_block
    if outermost:
        progress.start(job.token, total=len(rows))
    side = progress.SideChannel(job.token, enabled=outermost)
    try:
        outcome = _confirm_locked(actor=actor, job=job, rows=rows, side=side)
    except ImportChanged:
        if outermost:
            progress.finish(job.token, phase=progress.FAILED)
        raise
    except IntegrityError:
        # A number was added by a path that does not take the license lock (e.g. an edit
        # changing a number) between our check and our insert: report it like any change.
        if outermost:
            progress.finish(job.token, phase=progress.FAILED)
        raise ImportChanged(_store_report(job, rows, actor)) from None
    finally:
        side.close()
    if outermost:
        progress.finish(job.token, phase=progress.DONE, done=len(rows))
    return outcome


def _outcome(job: ImportJob, *, already: bool) -> Outcome:
    data = job.outcome
    return Outcome(
        count=data.get("count", 0),
        unlimited=data.get("unlimited", 0),
        total_credit=Decimal(data.get("total_credit", "0")),
        already_imported=already,
    )


def _store_report(job: ImportJob, rows: list[checking.Row], actor: Actor) -> dict:
    """Check the job's rows again (no locks: the report is advisory) and keep the report."""
    extension = job.extension
    context = _context(actor.user)
    evaluation = checking.reevaluate(
        rows, checked_with=checking.Context.from_dict(job.context), context=context
    )
    checking.find_existing(evaluation, extension_id=extension.pk)
    room = room_of(get_license(), _reseller_of(extension))
    report = _report(job, evaluation, room, context)
    _save_changed(job, report, evaluation, context)
    return report


def _report(job, evaluation, room, context, room_error: str | None = None) -> dict:
    old = job.report
    report = checking.build_report(
        evaluation=evaluation,
        room=room,
        file_name=job.file_name,
        file_format=old.get("format", ""),
        header=old.get("header", False),
        lines=old.get("lines", 0),
        context=context,
        room_error=room_error,
    )
    # The preview keeps the lines of the file as first shown; bad ones get today's reasons.
    report["preview"] = [
        {**item, "error": " ".join(evaluation.errors.get(item["line"], []))}
        for item in old.get("preview", [])
    ]
    return report


def _save_changed(job, report, evaluation, context) -> None:
    job.report = report
    job.context = context.as_dict()
    job.rows = checking.pack_rows(evaluation.rows) if report["ok"] else b""
    job.bad_lines = checking.pack_bad_lines(checking.bad_lines(evaluation))
    job.save(update_fields=["report", "context", "rows", "bad_lines"])


def _confirm_locked(*, actor: Actor, job: ImportJob, rows, side) -> Outcome:
    extension = job.extension
    reseller_id = extension.organization.reseller_id
    with transaction.atomic():
        # The project-wide counter locks (License → Reseller): the room read below stays
        # true until we commit, so no concurrent add or enable can take the same places.
        counters = lock_counters([reseller_id])
        reseller = counters.resellers[reseller_id]
        # The job row last: two Confirms of one job queue here; the second sees "imported".
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.state == ImportState.IMPORTED:
            return _outcome(job, already=True)
        context = _context(actor.user, reseller=reseller)
        evaluation = checking.reevaluate(
            rows, checked_with=checking.Context.from_dict(job.context), context=context
        )
        checking.find_existing(evaluation, extension_id=extension.pk)
        # The license as for every status change: the same rule, the same refusal.
        counters.add(reseller_id, len(evaluation.rows))
        try:
            counters.check_room(verb="Importing")
            room_error = ""
        except LicenseExceeded as exc:
            room_error = " ".join(exc.messages)
        room = room_of(counters.license, reseller)
        report = _report(job, evaluation, room, context, room_error)
        if (
            not report["ok"]
            or evaluation.renumbered
            or checking.summary_of(report) != checking.summary_of(job.report)
        ):
            changed = report
        else:
            changed = None
            side.update(progress.SAVING, 0)
            _insert(actor=actor, extension=extension, rows=evaluation.rows, side=side)
            count = len(evaluation.rows)
            counters.save()
            totals = credit_totals.TotalsChange()
            for row in evaluation.rows:
                totals.moved(
                    reseller_id,
                    (credit_totals.ZERO, 0),
                    credit_totals.share(
                        status=CallerIDStatus.ENABLED, unlimited=row.unlimited, available=row.credit
                    ),
                )
            outcome = {
                "count": count,
                "unlimited": report["unlimited"],
                "with_pin": report["with_pin"],
                "total_credit": report["total_credit"],
                "file_name": job.file_name,
            }
            job.state = ImportState.IMPORTED
            job.outcome = outcome
            job.report = report
            job.rows = b""
            job.imported_at = timezone.now()
            job.save(update_fields=["state", "outcome", "report", "rows", "imported_at"])
            record(
                actor=actor,
                action="callerid.import",
                obj=extension,
                after=outcome,
                reseller=reseller,
                object_repr=f"{extension.number}: import of {job.file_name}"[:200],
            )
            side.update(progress.SAVING, count)
            # The reseller's totals row last, as in every transaction that takes it.
            totals.save()
    if changed is not None:
        _save_changed(job, changed, evaluation, context)
        raise ImportChanged(changed)
    return _outcome(job, already=False)


def _insert(*, actor: Actor, extension: CallbackExtension, rows, side) -> None:
    """Insert in batches: the CallerIDs, then their `initial` ledger rows."""
    user_id = actor.user.pk if actor.user is not None else None
    username = actor.label if actor.user is not None or actor.token is not None else ""
    now = timezone.now()
    insert = _insert_returning if connection.vendor == "postgresql" else _bulk_create_returning
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        ids = insert(
            AuthorizedCallerID,
            {
                "extension_id": [extension.pk] * len(batch),
                "number": [row.number for row in batch],
                "pin_salt": [row.pin_salt for row in batch],
                "pin_hash": [row.pin_hash for row in batch],
                "wrong_pin_count": [0] * len(batch),
                "status": [CallerIDStatus.ENABLED.value] * len(batch),
                "status_reason": [""] * len(batch),
                "locked_after_pins": [None] * len(batch),
                "unlimited": [row.unlimited for row in batch],
                "available": [row.credit for row in batch],
                "total": [row.credit for row in batch],
                "created_at": [now] * len(batch),
                "created_by_id": [user_id] * len(batch),
                "removed_at": [None] * len(batch),
            },
        )
        insert(
            LedgerEntry,
            {
                "callerid_id": ids,
                "kind": [LedgerKind.INITIAL.value] * len(batch),
                "amount": [row.credit for row in batch],
                "balance_after": [row.credit for row in batch],
                "order_number": [row.order for row in batch],
                "one_time_key": [None] * len(batch),
                "call_id": [None] * len(batch),
                "actor_id": [user_id] * len(batch),
                "actor_username": [username] * len(batch),
                "reseller_id": [extension.organization.reseller_id] * len(batch),
                "created_at": [now] * len(batch),
            },
        )
        side.update(progress.SAVING, start + len(batch))


def _insert_returning(model, columns: dict[str, list]) -> list[int]:
    """PostgreSQL: COPY a batch with ids taken from the table's sequence first, without
    building model instances (Django's per-field preparation and INSERT statements cost
    many seconds at 100,000 rows). Values are already what the columns hold: str, bool,
    int, Decimal (4 places), aware datetimes, None."""
    fields = [model._meta.get_field(name) for name in columns]
    concrete = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    if {f.attname for f in fields} != concrete:
        raise RuntimeError(f"_insert_returning: the columns of {model.__name__} changed")
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column
    count = len(next(iter(columns.values())))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(table), pk, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        lines = (
            "\t".join(map(_copy_text, values)) + "\n"
            for values in zip(ids, *columns.values(), strict=True)
        )
        names = ", ".join(quote(column) for column in [pk, *(f.column for f in fields)])
        cursor.cursor.copy_expert(
            f"COPY {quote(table)} ({names}) FROM STDIN", io.StringIO("".join(lines))
        )
    return ids


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format: \\N for NULL, special characters escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _bulk_create_returning(model, columns: dict[str, list]) -> list[int]:
    names = list(columns)
    objects = [
        model(**dict(zip(names, values, strict=True)))
        for values in zip(*columns.values(), strict=True)
    ]
    return [obj.pk for obj in model.objects.bulk_create(objects, batch_size=BATCH_SIZE)]


def job_for(*, user, extension: CallbackExtension, token) -> ImportJob | None:
    """The user's own job for this extension, or None: only the uploader confirms or
    retries a job."""
    return ImportJob.objects.filter(token=token, extension=extension, user=user).first()


def job_to_view(*, user, extension: CallbackExtension, token) -> ImportJob | None:
    """The job for this extension as `user` may look at it (its report, progress and bad
    lines), or None: the user's own, or anyone's for an administrator, who sees everything
    on the server (SPEC §1). The caller has checked the extension is in the user's scope."""
    jobs = ImportJob.objects.filter(token=token, extension=extension).select_related("user")
    if not scoping.is_admin(user):
        jobs = jobs.filter(user=user)
    return jobs.first()
