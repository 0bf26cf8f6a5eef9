"""Servers and load clients for the HTTP benchmarks: gunicorn started with the production
configuration (gunicorn.conf.py, the README's command), HAProxy in front of several of
them, and load clients in several processes (one Python process cannot saturate a server:
the GIL would cap the client before the server).
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import ROOT

HOST = "127.0.0.1"
HAPROXY = "/usr/sbin/haproxy"
# Set by BackgroundLoad before it forks its load processes, which inherit it.
_STOP = None


_TAKEN: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1: from BENCH_PORTS ("8210-8219") when set, so benchmarks
    on a shared machine stay in their own range; else any free port."""
    first, _, last = os.environ.get("BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        if port in _TAKEN:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            port = probe.getsockname()[1]
            _TAKEN.add(port)
            return port
    raise SystemExit(f"no free port in BENCH_PORTS={os.environ.get('BENCH_PORTS')}")


def wait_healthy(port: int, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited ({process.returncode})")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{what} did not answer /healthz within {seconds:.0f} s")


def start_gunicorn(
    port: int,
    *extra: str,
    settings_module: str = "bench.bench_settings",
    env: dict | None = None,
    python: str | None = None,
) -> subprocess.Popen:
    """gunicorn with the production configuration file (the README's command), bound to
    127.0.0.1:port; `extra` command-line options override it (e.g. --workers 2)."""
    gunicorn = str(Path(python or sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "settings.wsgi:application",
         "--bind", f"{HOST}:{port}", "--chdir", str(ROOT), "--log-level", "warning", *extra],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "LOG_LEVEL": "ERROR",
            "STATIC_MANIFEST": "false",
            "PYTHONWARNINGS": "ignore:No directory at",
            **(env or {}),
        },
        cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    wait_healthy(port, process, "gunicorn")
    return process


def start_haproxy(port: int, backends: list[int]) -> tuple[subprocess.Popen, str]:
    """HAProxy on 127.0.0.1:port, round robin over the gunicorn ports `backends`."""
    servers = "\n".join(
        f"    server app{i} {HOST}:{p} check inter 2s maxconn 64" for i, p in enumerate(backends)
    )
    config = f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    option http-server-close
frontend api
    bind {HOST}:{port}
    default_backend apps
backend apps
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as handle:
        handle.write(config)
    process = subprocess.Popen([HAPROXY, "-f", handle.name, "-db"], start_new_session=True,
                               stdout=subprocess.DEVNULL)  # fmt: skip
    wait_healthy(port, process, "haproxy")
    return process, handle.name


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- load clients ------------------------------------------------------------------------


def _client_process(args) -> dict:
    """One load process: `threads` threads sending requests for `seconds`."""
    port, threads, seconds, factory, factory_args, index = args
    make_request = factory(*factory_args)
    stop_at = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: dict[int, int] = {}
    bodies: list[tuple[int, bytes]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(thread: int) -> None:
        n = 0
        connection = None
        while time.perf_counter() < stop_at and not (_STOP is not None and _STOP.is_set()):
            method, path, body, headers = make_request(index * 1000 + thread, n)
            n += 1
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(HOST, port, timeout=60)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                if connection is not None:
                    connection.close()
                connection = None
                continue
            latencies[thread].append(time.perf_counter() - started)
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if path.startswith("/api/v1/calls"):
                    bodies.append((response.status, content))
        if connection is not None:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {
        "latencies": [t for per in latencies for t in per],
        "statuses": statuses,
        "errors": errors[:5],
        "error_count": len(errors),
        "bodies": bodies,
    }


def load(port: int, factory, factory_args: tuple, *, processes: int, threads: int,
         seconds: float) -> dict:  # fmt: skip
    """`processes` client processes of `threads` threads each, for `seconds`; each builds
    its request maker with factory(*factory_args) -> make_request(client, n) ->
    (method, path, body, headers). Requests/s, latency percentiles, statuses."""
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(processes) as pool:
        parts = pool.map(
            _client_process,
            [(port, threads, seconds, factory, factory_args, i) for i in range(processes)],
        )
    elapsed = time.perf_counter() - started
    every = sorted(t for part in parts for t in part["latencies"])
    statuses: dict[int, int] = {}
    for part in parts:
        for status, count in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": len(every),
        "rps": len(every) / min(elapsed, seconds + 0.5) if every else 0.0,
        "p50_ms": statistics.median(every) * 1000 if every else 0.0,
        "p99_ms": every[max(int(len(every) * 0.99) - 1, 0)] * 1000 if every else 0.0,
        "statuses": statuses,
        "errors": sum(part["error_count"] for part in parts),
        "error_samples": [e for part in parts for e in part["errors"]][:5],
        "bodies": [b for part in parts for b in part["bodies"]],
    }


class BackgroundLoad:
    """Load clients running in the background (processes) while something else is timed;
    stopped when the `with` block ends. `.result` then holds the load's figures."""

    def __init__(self, port, factory, factory_args, *, processes=2, threads=4, seconds=3600):
        global _STOP
        context = multiprocessing.get_context("fork")
        _STOP = context.Event()
        self._stop = _STOP
        self._args = (port, factory, factory_args)
        self._kwargs = {"processes": processes, "threads": threads, "seconds": seconds}
        self._queue = context.Queue()
        self._process = context.Process(target=self._run)
        self.result: dict = {}

    def _run(self) -> None:
        result = load(*self._args, **self._kwargs)
        result.pop("bodies", None)
        self._queue.put(result)

    def __enter__(self):
        self._process.start()
        return self

    def __exit__(self, *exc) -> None:
        global _STOP
        self._stop.set()
        self.result = self._queue.get(timeout=120)
        self._process.join(30)
        _STOP = None
