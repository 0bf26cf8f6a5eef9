"""Real workers on both task backends (SPEC §12): the database backend and RQ on Redis.

Each test starts `manage.py task_worker` as a subprocess against the test database, so
these run on PostgreSQL (an SQLite test database lives in this process's memory).
"""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from callerids.importing import background
from callerids.importing.services import check_import
from callerids.models import AuthorizedCallerID, ImportJob, ImportProgress, License
from credit.models import LedgerEntry
from notifications.models import DeliveryState
from tenancy.audit import Actor
from tenancy.models import ChargingPreferences
from tests.notifications.support import Charger, Receiver, allow_private, set_channels
from tests.notifications.test_events import new_callerid
from tests.tasks_support import (
    flush_queue,
    kill_worker,
    redis_or_skip,
    start_worker,
    stop_worker,
    using_task_backend,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BACKENDS = ["database", "rq"]
PORTS = {"database": 8196, "rq": 8197}


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "rq":
        redis_or_skip()
    with using_task_backend(request.param):
        if request.param == "rq":
            flush_queue()
        yield request.param
        if request.param == "rq":
            flush_queue()


def wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def test_a_worker_delivers_a_webhook_enqueued_after_the_commit(
    backend, reseller_a, extension_a, tmp_path
):
    allow_private()
    with Receiver(PORTS[backend], [200]) as receiver:
        set_channels(reseller_a, threshold=Decimal("5"), webhook_url=receiver.url)
        callerid = new_callerid(extension_a, "12")
        Charger(extension_a, callerid).charge("8")  # commits; the task is enqueued after
        worker = start_worker(backend, burst=True, log_path=tmp_path / "worker.log")
        try:
            worker.wait(timeout=180)  # a loaded machine: a burst worker starts Django first
        finally:
            stop_worker(worker)
        assert receiver.json()["type"] == "credit.low", (tmp_path / "worker.log").read_text()
    from notifications.models import Delivery

    assert Delivery.objects.get().state == DeliveryState.DELIVERED


LINES = 20_000


@pytest.fixture
def big_job(admin_user, extension_a):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": LINES + 10})
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )
    content = "".join(f"+4072{n:07d},,B-{n},1.5\n" for n in range(LINES)).encode()
    job = check_import(
        actor=Actor(user=admin_user),
        extension=extension_a,
        content=content,
        file_name="big.csv",
        separator=",",
    )
    assert job.report["ok"], job.report["errors"][:3]
    return job


def test_killing_the_worker_during_a_confirm_saves_nothing_and_the_page_says_so(
    backend, big_job, admin_user, extension_a, client_for, tmp_path
):
    client = client_for("admin")
    args = [extension_a.pk, big_job.token]
    client.post(reverse("callerids:import_confirm", args=args))
    assert ImportJob.objects.get(pk=big_job.pk).state == "confirming"
    worker = start_worker(backend, log_path=tmp_path / "worker.log")
    task_pid = None
    try:
        # Killed in the middle of saving: some batches are written in its transaction.
        row = wait_for(
            lambda: ImportProgress.objects.filter(
                token=big_job.token, phase="saving", done__gt=0, done__lt=LINES
            ).first(),
            seconds=120,
            what="the confirm to be saving",
        )
        task_pid = int(row.worker.rsplit(":", 1)[1])
    finally:
        kill_worker(worker, task_pid=task_pid)
    # The killed process's connection is gone, its transaction rolled back.
    wait_for(
        lambda: background.status(ImportJob.objects.get(pk=big_job.pk)).state == "failed",
        seconds=10,
        what="the failure to show",
    )
    assert not AuthorizedCallerID.objects.filter(extension=extension_a).exists()
    assert not LedgerEntry.objects.exists()
    assert License.objects.get(pk=1).active_callerids == 0
    page = client.get(reverse("callerids:import_report", args=args))
    html = page.content.decode()
    assert "Import failed" in html
    assert "nothing was saved" in html
    assert "Retry the import" in html
    progress = client.get(reverse("callerids:import_progress", args=args)).json()
    assert progress["state"] == "failed"

    # Retry: a new worker finishes it, once.
    client.post(reverse("callerids:import_retry", args=args))
    worker = start_worker(backend, burst=True, log_path=tmp_path / "retry.log")
    try:
        worker.wait(timeout=300)
    finally:
        stop_worker(worker)
    assert ImportJob.objects.get(pk=big_job.pk).state == "imported", (
        tmp_path / "retry.log"
    ).read_text()[-3000:]
    assert AuthorizedCallerID.objects.filter(extension=extension_a).count() == LINES
    assert License.objects.get(pk=1).active_callerids == LINES
    done = client.get(reverse("callerids:import_report", args=args)).content.decode()
    assert f"Imported {LINES:,} authorized CallerIDs into callback extension" in done


def test_a_queued_step_waits_for_a_worker(backend, big_job, client_for, extension_a):
    assert background.confirm(actor=Actor(user=big_job.user), job=big_job)
    status = background.status(ImportJob.objects.get(pk=big_job.pk))
    assert (status.state, status.waiting, status.retry) == ("confirming", True, "")
    args = [extension_a.pk, big_job.token]
    html = client_for("admin").get(reverse("callerids:import_report", args=args)).content
    assert "Waiting for a worker" in html.decode()
    # A second click enqueues nothing more.
    assert not background.confirm(actor=Actor(user=big_job.user), job=big_job)
