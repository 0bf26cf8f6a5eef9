"""Progress of a running Confirm (SPEC §5.2), readable while its transaction is still open.

The Confirm saves everything in one transaction, so nothing it writes there is visible
before the commit. On PostgreSQL the progress row is therefore written on a second
connection, in autocommit, after every batch; the page polls it. SQLite has one writer at
a time (the Confirm holds it), so there the row only says "running" and the page shows an
indeterminate indicator.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from callerids.models import ImportProgress

logger = logging.getLogger(__name__)

WAITING, CHECKING, SAVING, DONE, FAILED = "waiting", "checking", "saving", "done", "failed"
READING = "reading"
HEARTBEAT_SECONDS = 5
# A worker on another machine whose heartbeat is older than this is taken as dead.
HEARTBEAT_STALE = timedelta(seconds=60)


def _pid_namespace() -> str:
    """Processes can see each other's pids only inside one pid namespace (containers)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "-"


def this_worker() -> str:
    return f"{socket.gethostname()}:{_pid_namespace()}:{os.getpid()}"


def claim(token: uuid.UUID, *, phase: str, total: int = 0) -> None:
    """The running task's own mark on the progress row (committed; outside a transaction):
    which process runs it, so the page can tell a dead worker from a slow one."""
    ImportProgress.objects.update_or_create(
        token=token,
        defaults={
            "phase": phase,
            "done": 0,
            "total": total,
            "worker": this_worker(),
            "updated_at": timezone.now(),
        },
    )


def reset(token: uuid.UUID) -> None:
    """Before a step is enqueued: no worker has it yet."""
    ImportProgress.objects.update_or_create(
        token=token,
        defaults={
            "phase": WAITING,
            "done": 0,
            "total": 0,
            "worker": "",
            "updated_at": timezone.now(),
        },
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def worker_dead(row: ImportProgress | None) -> bool:
    """True when the process that took the step is gone: on this machine (same host name
    and pid namespace), its pid; elsewhere (PostgreSQL deployments), a heartbeat older
    than HEARTBEAT_STALE."""
    if row is None or not row.worker:
        return False
    host, namespace, pid = row.worker.rsplit(":", 2)
    if host == socket.gethostname() and namespace == _pid_namespace():
        return not _process_alive(int(pid))
    return timezone.now() - row.updated_at > HEARTBEAT_STALE


class Heartbeat(threading.Thread):
    """Touches the progress row every few seconds from its own connection while a step
    runs, for pages served by other machines (PostgreSQL only: on SQLite the step's
    transaction holds the one write lock, and every process is on the same machine)."""

    def __init__(self, token: uuid.UUID):
        super().__init__(name="import-heartbeat", daemon=True)
        self.token = token
        self.stopping = threading.Event()

    def run(self) -> None:
        channel = SideChannel(self.token, enabled=True)
        try:
            while not self.stopping.wait(HEARTBEAT_SECONDS):
                channel.touch()
        finally:
            channel.close()

    def __enter__(self):
        if connection.vendor == "postgresql":
            self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=HEARTBEAT_SECONDS)


def start(token: uuid.UUID, *, total: int) -> None:
    """Create or reset the progress row, committed (call outside any transaction)."""
    ImportProgress.objects.update_or_create(
        token=token,
        defaults={"phase": CHECKING, "done": 0, "total": total, "updated_at": timezone.now()},
    )


def finish(token: uuid.UUID, *, phase: str, done: int | None = None) -> None:
    values = {"phase": phase, "updated_at": timezone.now()}
    if done is not None:
        values["done"] = done
    ImportProgress.objects.filter(token=token).update(**values)


def read(token: uuid.UUID) -> ImportProgress | None:
    return ImportProgress.objects.filter(token=token).first()


class SideChannel:
    """Writes the progress row on its own connection while the main one is in a transaction.

    Active only on PostgreSQL and only when the Confirm's transaction is the outermost one
    (inside an enclosing transaction, e.g. a test case, the row is not visible to other
    connections anyway). Always close() it, in a finally.
    """

    def __init__(self, token: uuid.UUID, *, enabled: bool):
        self.token = token
        self.wrapper = None
        if enabled and connection.vendor == "postgresql":
            main = connections["default"]
            # A separate wrapper, not registered in django.db.connections: it is this
            # object's alone and closed by close().
            self.wrapper = type(main)(copy.deepcopy(main.settings_dict), alias="import_progress")
        self._sql = (
            f"UPDATE {connection.ops.quote_name(ImportProgress._meta.db_table)} "
            "SET phase = %s, done = %s, updated_at = %s WHERE token = %s"
        )
        self._touch_sql = (
            f"UPDATE {connection.ops.quote_name(ImportProgress._meta.db_table)} "
            "SET updated_at = %s WHERE token = %s"
        )

    def touch(self) -> None:
        if self.wrapper is None:
            return
        try:
            with self.wrapper.cursor() as cursor:
                cursor.execute(self._touch_sql, [timezone.now(), self.token])
        except DatabaseError:
            logger.warning("import heartbeat: the second connection failed", exc_info=True)

    def update(self, phase: str, done: int) -> None:
        if self.wrapper is None:
            return
        try:
            with self.wrapper.cursor() as cursor:  # autocommit: committed at once
                cursor.execute(self._sql, [phase, done, timezone.now(), self.token])
        except DatabaseError:
            # Progress is a courtesy: never let it fail the import (e.g. no free connection).
            logger.warning("import progress: the second connection failed", exc_info=True)
            self.close()

    def close(self) -> None:
        if self.wrapper is not None:
            self.wrapper.close()
            self.wrapper = None
