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
import uuid

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from callerids.models import ImportProgress

logger = logging.getLogger(__name__)

WAITING, CHECKING, SAVING, DONE, FAILED = "waiting", "checking", "saving", "done", "failed"


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
