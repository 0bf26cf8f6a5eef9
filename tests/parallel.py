"""Run callables from a pool of threads, as the concurrency tests on PostgreSQL do.

PostgreSQL allows 100 connections here and other suites may share it: at most 20 threads,
each closing its own connection when done.
"""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection

THREADS = 20


def in_parallel(calls, *, threads: int = THREADS):
    """Each callable's outcome, in order: its value, or the exception it raised."""

    def run(call):
        try:
            return call()
        except Exception as exc:  # the outcome under test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(threads, THREADS)) as pool:
        return list(pool.map(run, calls))


def in_sequence(calls):
    """The same outcomes, one call after the other (the SQLite variant of a scenario)."""
    outcomes = []
    for call in calls:
        try:
            outcomes.append(call())
        except Exception as exc:
            outcomes.append(exc)
    return outcomes
