"""Periodic tasks (SPEC §12): every worker process runs this scheduler beside its worker.

Each tick locks the task's PeriodicRun row and enqueues the task only when its interval has
passed since the last enqueue, so any number of workers, on any machines, enqueue each
periodic task once per interval. The task itself then runs on whichever worker takes it,
with the configured backend (database or RQ) — the schedule is the same for both.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.models import PeriodicRun

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0


def due(*, now: datetime | None = None) -> list[str]:
    """Claim the periodic tasks whose interval has passed and enqueue them; their paths."""
    now = now or timezone.now()
    enqueued = []
    for path, seconds in settings.PERIODIC_TASKS.items():
        with transaction.atomic():
            run, created = PeriodicRun.objects.select_for_update().get_or_create(
                name=path, defaults={"last_enqueued_at": now}
            )
            if not created and run.last_enqueued_at + timedelta(seconds=seconds) > now:
                continue
            run.last_enqueued_at = now
            run.save(update_fields=["last_enqueued_at"])
            transaction.on_commit(lambda path=path: import_string(path).enqueue())
        enqueued.append(path)
    return enqueued


class Scheduler(threading.Thread):
    """The loop, as a daemon thread of the worker process (it ends with the process)."""

    def __init__(self):
        super().__init__(name="cbm-scheduler", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                for path in due():
                    logger.info("periodic task enqueued: %s", path)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                logger.exception("periodic scheduler tick failed")
            finally:
                connection.close()
            self.stopping.wait(TICK_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
