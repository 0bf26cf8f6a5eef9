"""Benchmark-only settings: the API on psycopg 3 the way the issue 21 comparison runs it —
Django's connection pool, server-side binding (so psycopg prepares a statement itself
after it ran 5 times on a connection), and database.prepared's hand-made PREPARE turned
off (its statements run as plain SQL). Needs psycopg 3 installed (a separate venv: with
psycopg installed Django uses it instead of psycopg2). See bench/driver_compare.py.
"""

import os

import database.prepared
from bench.bench_settings import *  # noqa: F403
from bench.bench_settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
DATABASES["default"]["OPTIONS"] = {
    # gunicorn.conf.py: 4 threads a worker, one connection each at most.
    "pool": {"min_size": 1, "max_size": int(os.environ.get("GUNICORN_THREADS", 4))},
    "server_side_binding": True,
}


def _plain_execute(self, cursor, params):
    cursor.execute(self.sql, params)


database.prepared.Statement.execute = _plain_execute
