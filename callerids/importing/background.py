"""The import's Check and Confirm as background tasks (SPEC §12, §5.2).

The upload request keeps the file and enqueues the Check; the Confirm button enqueues the
Confirm. The report page follows the job's state and progress row. Confirm stays one
transaction (services.confirm_import): a worker killed midway leaves nothing saved, the job
still says "confirming", and status() sees that its process is gone and reports the
failure; retry() enqueues the step again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django_tasks import task

from callerids.importing import progress
from callerids.importing.reading import FileRefused
from callerids.importing.services import (
    ImportChanged,
    confirm_import,
    run_check,
    start_check,
)
from callerids.models import ImportJob, ImportState
from tenancy.audit import Actor

logger = logging.getLogger(__name__)

WORKER_DIED = (
    "The import stopped before it finished (its worker process ended): nothing was saved. "
    "Retry it, or check the file again."
)
CHECK_DIED = "The check stopped before it finished (its worker process ended). Retry it."
QUEUE_DOWN = "The task queue could not be reached: nothing was imported. Try again later."
CHANGED = "Something changed since the check: nothing was imported. Here is the new report."


@dataclass(frozen=True)
class Status:
    state: str  # an ImportState value; "failed" also for a step whose worker died
    phase: str
    done: int
    total: int
    error: str
    waiting: bool  # enqueued, no worker has taken it yet
    retry: str  # "check" / "confirm" when the failed step can be retried, else ""

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "waiting": self.waiting,
        }


def _enqueue(task, job: ImportJob, address: str | None) -> None:
    """Enqueue a step of a job already committed (the callers run in autocommit). When the
    queue cannot be reached the job fails with a message saying so."""
    try:
        result = task.enqueue(job.pk, address or "")
    except Exception:
        _fail(job, QUEUE_DOWN)
        raise
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


def upload(*, actor: Actor, extension, content: bytes, file_name: str, separator: str):
    """Keep the file and enqueue its Check; the job (state "checking"). Run in autocommit:
    the job must be committed before a worker can take its task."""
    job = start_check(
        actor=actor,
        extension=extension,
        content=content,
        file_name=file_name,
        separator=separator,
    )
    progress.reset(job.token)
    _enqueue(check_task, job, actor.address)
    return job


def confirm(*, actor: Actor, job: ImportJob) -> bool:
    """Enqueue the Confirm of a checked job, once: a second click while it is queued or
    running changes nothing. False when the job is not waiting for a Confirm."""
    taken = ImportJob.objects.filter(pk=job.pk, state=ImportState.CHECKED).update(
        state=ImportState.CONFIRMING, notice="", error=""
    )
    if not taken:
        return False
    progress.reset(job.token)
    _enqueue(confirm_task, job, actor.address)
    return True


def status(job: ImportJob) -> Status:
    row = progress.read(job.token)
    phase, done, total = (row.phase, row.done, row.total) if row else (progress.WAITING, 0, 0)
    state, error, retry = job.state, job.error, ""
    running = state in (ImportState.CHECKING, ImportState.CONFIRMING)
    if running and progress.worker_dead(row):
        # The step may have ended (and its worker exited) between the two reads above.
        state = ImportJob.objects.filter(pk=job.pk).values_list("state", flat=True).first()
        if state not in (ImportState.CHECKING, ImportState.CONFIRMING):
            return Status(state, phase, done, total, job.error, waiting=False, retry="")
        state = ImportState.FAILED
        error = WORKER_DIED if job.state == ImportState.CONFIRMING else CHECK_DIED
        retry = "confirm" if job.state == ImportState.CONFIRMING else "check"
    return Status(
        state=state,
        phase=phase,
        done=done,
        total=total,
        error=error,
        waiting=running and (row is None or not row.worker),
        retry=retry,
    )


def retry(*, actor: Actor, job: ImportJob) -> bool:
    """Enqueue again a step whose worker died; False when it is not such a step."""
    step = status(job).retry
    if not step:
        return False
    progress.reset(job.token)
    _enqueue(check_task if step == "check" else confirm_task, job, actor.address)
    return True


def run_check_step(job_id: int) -> str:
    """The Check task's body."""
    job = ImportJob.objects.select_related("extension__organization", "user").get(pk=job_id)
    if job.state != ImportState.CHECKING:
        return job.state
    try:
        run_check(job=job)
    except FileRefused:
        return ImportState.FAILED  # an outcome for the user, not a task failure
    except Exception as exc:
        _fail(job, f"The check failed: {exc.__class__.__name__}. Check the file again.")
        raise
    return ImportState.CHECKED


def run_confirm_step(job_id: int, address: str = "") -> str:
    """The Confirm task's body: one transaction, all or nothing."""
    job = ImportJob.objects.select_related("extension__organization", "user").get(pk=job_id)
    if job.state != ImportState.CONFIRMING:
        return job.state
    progress.claim(job.token, phase=progress.CHECKING)
    actor = Actor(user=job.user, address=address or None)
    try:
        with progress.Heartbeat(job.token):
            confirm_import(actor=actor, job=job)
    except ImportChanged:
        ImportJob.objects.filter(pk=job.pk).update(state=ImportState.CHECKED, notice=CHANGED)
        return ImportState.CHECKED
    except Exception as exc:
        _fail(job, f"The import failed ({exc.__class__.__name__}): nothing was saved.")
        raise
    return ImportState.IMPORTED


def _fail(job: ImportJob, message: str) -> None:
    logger.exception("import job %s (%s) failed", job.pk, job.task_id or "no task id")
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.FAILED, error=message)
    progress.finish(job.token, phase=progress.FAILED)


@task()
def check_task(job_id: int, address: str = "") -> str:
    """Check an uploaded import file (the upload request enqueues it)."""
    return run_check_step(job_id)


@task()
def confirm_task(job_id: int, address: str = "") -> str:
    """Confirm a checked import: every CallerID saved in one transaction, or none."""
    return run_confirm_step(job_id, address)
