"""Named prepared statements for the PBX API's hot paths (issue 12, docs/api.md).

On PostgreSQL planning the API's queries costs several times running them (the decision
query joins four tables: ~0.5 ms to plan, ~0.05 ms to run). A `Statement` is PREPAREd
once per database connection and then EXECUTEd with its parameters, so the plan is made
once. Elsewhere (SQLite) it runs as a plain query; the sqlite3 module caches statements.

SQL-level PREPARE lives as long as the database session (a ROLLBACK keeps it), so this
needs a session per Django connection: a pooler in transaction mode (PgBouncer) would
need session mode.
"""

from __future__ import annotations

import re

from django.db import connection

_PLACEHOLDER = re.compile(r"%s")


class Statement:
    """One SQL statement with `%s` placeholders, prepared on first use per connection."""

    def __init__(self, name: str, sql: str) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,50}", name):
            raise ValueError(f"bad statement name {name!r}")
        self.name = f"cbm_{name}"
        self.sql = sql
        count = 0

        def number(_match: re.Match) -> str:
            nonlocal count
            count += 1
            return f"${count}"

        self._prepare_sql = f"PREPARE {self.name} AS {_PLACEHOLDER.sub(number, sql)}"
        arguments = ", ".join(["%s"] * count)
        self._execute_sql = (
            f"EXECUTE {self.name} ({arguments})" if count else f"EXECUTE {self.name}"
        )
        self._count = count

    def execute(self, cursor, params) -> None:
        """Run the statement on `cursor` (a cursor of django.db.connection)."""
        if len(params) != self._count:
            raise ValueError(f"{self.name} takes {self._count} parameters")
        if connection.vendor != "postgresql":
            cursor.execute(self.sql, params)
            return
        raw = connection.connection
        known = getattr(connection, "_cbm_prepared", None)
        if known is None or known[0] is not raw:
            # A new session (first use, or Django reconnected): nothing is prepared on it.
            known = (raw, set())
            connection._cbm_prepared = known
        if self.name not in known[1]:
            cursor.execute(self._prepare_sql)
            known[1].add(self.name)
        cursor.execute(self._execute_sql, params)

    def fetchone(self, params):
        """Run the statement and return its first row (or None)."""
        with connection.cursor() as cursor:
            self.execute(cursor, params)
            return cursor.fetchone()
