"""A persistent database connection that PostgreSQL dropped (restart, failover,
pg_terminate_backend) is replaced before the next request uses it (issue 16 item 10).

The check costs no round trip while the connection is quiet (database/postgresql/base.py):
these tests also check that a quiet connection is kept without `SELECT 1` and that a
dropped one is found through Django's own check.

The requests go through Django's WSGI handler, as gunicorn calls it, so the request_started
signal runs its connection checks (the test Client switches those off). The test settings
close connections after each request: these tests make them persistent, as production does.
"""

import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql
from django.test import Client, RequestFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def get(path: str, cookies: str = "") -> int:
    """GET path through the WSGI application; the response's status code."""
    environ = RequestFactory().get(path, HTTP_COOKIE=cookies).environ
    status = []
    response = WSGIHandler()(environ, lambda code, headers, exc_info=None: status.append(code))
    response.close()  # fires request_finished, as the WSGI server does
    return int(status[0].split()[0])


def kill_backend_of_this_connection() -> None:
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
            # pg_terminate_backend only signals the backend: wait until it has gone (as a
            # restart or a failover has, long before the next request comes).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone() == (0,):
                    break
                time.sleep(0.02)
            else:
                pytest.fail(f"backend {pid} still there 10 s after pg_terminate_backend")
    finally:
        other.close()


@pytest.fixture
def persistent(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    connection.close()
    yield
    connection.close()


def test_the_settings_turn_health_checks_on():
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.settings_dict["ENGINE"] == "database.postgresql"


@pytest.fixture
def selects_one(monkeypatch):
    """Each call of Django's own check (its `SELECT 1` round trip), with its answer."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(original(self))
        return calls[-1]

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def test_a_quiet_connection_is_kept_without_a_round_trip(persistent, selects_one):
    assert get("/healthz") == 200
    first = connection.connection
    for _ in range(3):
        assert get("/healthz") == 200
    assert connection.connection is first
    assert selects_one == []


def test_a_dropped_connection_is_confirmed_by_djangos_check(persistent, selects_one):
    assert get("/healthz") == 200
    kill_backend_of_this_connection()
    assert get("/healthz") == 200
    assert selects_one == [False]  # the socket had the server's goodbye: SELECT 1 failed


def test_healthz_answers_200_after_the_backend_was_terminated(persistent):
    assert get("/healthz") == 200
    first = connection.connection
    assert first is not None  # kept open between requests

    kill_backend_of_this_connection()

    assert get("/healthz") == 200
    assert connection.connection is not first


def test_a_page_answers_after_the_backend_was_terminated(persistent, admin_user):
    client = Client()
    client.force_login(admin_user)
    cookies = f"sessionid={client.cookies['sessionid'].value}"
    assert get("/", cookies) == 200

    kill_backend_of_this_connection()

    assert get("/", cookies) == 200
    assert get("/healthz") == 200
