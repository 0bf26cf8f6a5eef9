"""Django's PostgreSQL backend with a health check that costs no round trip when idle.

With `CONN_HEALTH_CHECKS` on (settings/base.py), Django checks a persistent connection at
the start of each request by running `SELECT 1` on it: one more round trip for every
request that touches the database, the PBX API's included (on authorize, one of its two
round trips). A connection that PostgreSQL dropped (restart, failover,
`pg_terminate_backend`) is not silent, though: the server sends its "terminating
connection" error and closes the socket, so the socket of an idle connection becomes
readable. `is_usable` asks the socket first (a `poll` with no wait): nothing to read means
nothing happened since the last query, and the connection is kept without a round trip;
anything to read (or an error) falls back to Django's own `SELECT 1`, which then replaces
the connection if it is gone. tests/panel/test_connection_health.py checks both ways.

What this cannot see, `SELECT 1` could not see either without waiting for TCP's timeouts:
a peer that vanished without closing the connection (a cut cable); the next query then
fails as it would have.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

ENGINE = "database.postgresql"


def has_input(connection) -> bool:
    """True when the driver's socket has bytes (or a hang-up, or an error) waiting."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            quiet = not has_input(self.connection)
        except (OSError, ValueError):  # no socket any more
            return False
        return quiet or super().is_usable()
