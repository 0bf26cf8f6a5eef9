"""The periodic tasks (SPEC §12): each enqueued once per interval, however many workers
run the scheduler; the hold expiry sweep and the delivery sweep run through them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credit.tasks import release_expired_holds_task
from notifications.models import PeriodicRun
from notifications.periodic import due

pytestmark = pytest.mark.django_db

SWEEPS = ["credit.tasks.release_expired_holds_task", "notifications.tasks.deliver_due_task"]


def test_the_hold_sweep_and_the_delivery_sweep_run_every_minute(settings):
    assert {path: settings.PERIODIC_TASKS[path] for path in SWEEPS} == dict.fromkeys(SWEEPS, 60)


def test_each_tick_enqueues_a_task_once_per_interval(django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert sorted(due(now=now)) == sorted(SWEEPS)
        # A second worker's scheduler, a second later: nothing more.
        assert due(now=now + timedelta(seconds=1)) == []
        assert due(now=now + timedelta(seconds=59)) == []
        assert sorted(due(now=now + timedelta(seconds=60))) == sorted(SWEEPS)
    assert len(enqueued) == 4
    assert PeriodicRun.objects.get(name=SWEEPS[0]).last_enqueued_at == now + timedelta(seconds=60)


def test_the_hold_sweep_task_releases_expired_holds():
    # The suite's immediate backend runs it here; with no hold open it releases nothing.
    assert release_expired_holds_task.enqueue().return_value == 0
