"""Real task backends and workers for the tests (the suite runs tasks inside the caller
unless a test picks one of these)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}


@contextmanager
def using_task_backend(name: str):
    tasks = {"default": {"BACKEND": BACKENDS[name], "QUEUES": ["default"]}}
    with override_settings(TASKS=tasks, TASKS_BACKEND=name):
        yield


def redis_or_skip():
    """The RQ tests need Redis: skipped with a reason when it is not running (CI starts it
    and sets CI=true, which turns the skip into a failure)."""
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"needs Redis at {settings.REDIS_URL} (redis-server; .ci/run starts it)")


def flush_queue():
    import django_rq

    queue = django_rq.get_queue("default")
    queue.empty()


def database_url() -> str:
    """The test database as a URL, for worker subprocesses (PostgreSQL only)."""
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def worker_env(backend: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": backend,
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }


def start_worker(backend: str, *, burst: bool = False, log_path=None) -> subprocess.Popen:
    """`manage.py task_worker` as a subprocess in its own process group."""
    args = [sys.executable, "manage.py", "task_worker", "--no-scheduler"]
    if burst:
        args.append("--burst")
    out = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=worker_env(backend),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_worker(process: subprocess.Popen, *, task_pid: int | None = None) -> None:
    """SIGKILL the worker and everything it started. An RQ worker runs each task in a
    forked work horse in a session of its own: `task_pid` names the process that runs the
    task, killed too."""
    if task_pid is not None:
        with suppress(ProcessLookupError):
            os.kill(task_pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_worker(process)
