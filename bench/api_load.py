"""PBX API load benchmark (issue 12), over HTTP against gunicorn on 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/api_load.py
    ... bench/api_load.py --seconds 10 --threads 8 --workers 3
    ... bench/api_load.py --profile       # cProfile of authorize and calls, in-process

The script starts gunicorn (settings bench/bench_settings.py: the real URLs plus a bare
JSON view, same middleware), creates a server-wide API token (revoked at the end), and
from --threads client threads (http.client, one connection per request: gunicorn's sync
workers close it) measures, each for --seconds:
  1. POST /bench/bare-json (a bare Django JSON view) and POST /api/v1/callback/authorize
     (random CallerIDs of the 100,000-CallerID extension): requests/s, goal >= 50%;
  2. POST /api/v1/calls, every request charging the same CallerID (+40800000000 on
     8000*001, seeded with 1,000,000.0000), next to pgbench running the same transaction
     (lock the CallerID row, insert the call, insert its ledger row, write the balance)
     with as many clients: calls/s vs transactions/s, goal >= 50%.
gunicorn is stopped at the end. The client threads, gunicorn and PostgreSQL share the
machine's CPUs: compare the ratios, not the absolute figures. The rows written by both
keep check_ledger clean (each balance is computed under the CallerID's row lock).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BIG_EXTENSION,
    HOT_NUMBER,
    ROOT,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)

GOAL = 0.5
HOST = "127.0.0.1"
CALL_COST = "0.0100"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "LOG_LEVEL": "ERROR",
        "STATIC_MANIFEST": "false",
        "PYTHONWARNINGS": "ignore:No directory at",
        "DB_CONN_MAX_AGE": "600",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "settings.wsgi:application",
            "--bind", f"{HOST}:{port}",
            "--workers", str(workers),
            "--chdir", str(ROOT),
            "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(process)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(port: int, threads: int, seconds: float, make_request) -> dict:
    """`threads` threads sending make_request(thread, n) -> (path, body, headers) for
    `seconds`; requests/s, latency percentiles and status counts."""
    stop_at = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: list[dict[int, int]] = [{} for _ in range(threads)]
    errors: list[str] = []

    def worker(index: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            path, body, headers = make_request(index, n)
            n += 1
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                connection.close()
            except OSError as error:
                errors.append(str(error))
                continue
            latencies[index].append(time.perf_counter() - started)
            statuses[index][response.status] = statuses[index].get(response.status, 0) + 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(t for per_thread in latencies for t in per_thread)
    merged: dict[int, int] = {}
    for per_thread in statuses:
        for status, count in per_thread.items():
            merged[status] = merged.get(status, 0) + count
    return {
        "requests": len(every),
        "rps": len(every) / elapsed,
        "p50_ms": statistics.median(every) * 1000 if every else 0,
        "p99_ms": every[int(len(every) * 0.99) - 1] * 1000 if every else 0,
        "statuses": merged,
        "errors": len(errors),
    }


def json_request(path: str, payload: dict, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return path, json.dumps(payload).encode(), headers


def authorize_payloads(big_numbers: list[str]):
    rng = random.Random(7)
    return [{"extension": BIG_EXTENSION, "caller_id": rng.choice(big_numbers)}
            for _ in range(5000)]  # fmt: skip


PGBENCH_SCRIPT = """\
BEGIN;
SELECT available FROM callerids_authorizedcallerid WHERE id = {callerid} FOR UPDATE \\gset
INSERT INTO credit_call (call_id, caller_id, destination, started_at, duration_seconds, cost,
  charged, shortfall, metered, created_at, callerid_id, extension_id, token_id)
  VALUES ('pgbench-' || txid_current(), '{number}', '+4031000000', now(), 60, {cost}, {cost},
  0, true, now(), {callerid}, {extension}, NULL) RETURNING id AS call \\gset
INSERT INTO credit_ledgerentry (kind, amount, balance_after, order_number, actor_username,
  created_at, call_id, callerid_id)
  VALUES ('call', -{cost}, :available - {cost}, '', 'pgbench', now(), :call, {callerid});
UPDATE callerids_authorizedcallerid SET available = :available - {cost} WHERE id = {callerid};
END;
"""


def run_pgbench(clients: int, seconds: int, callerid: int, extension: int) -> dict:
    from django.db import connection

    settings = connection.settings_dict
    script = PGBENCH_SCRIPT.format(
        callerid=callerid, extension=extension, number=HOT_NUMBER, cost=CALL_COST
    )
    # pgbench reads each statement up to ';' and allows them across lines only for SQL.
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    try:
        completed = subprocess.run(
            [
                "pgbench", "-n", "-f", handle.name, "-c", str(clients),
                "-j", str(min(clients, 2)), "-T", str(seconds),
                "-h", settings["HOST"] or HOST, "-p", str(settings["PORT"] or 5432),
                "-U", settings["USER"] or "postgres", settings["NAME"],
            ],
            capture_output=True, text=True, timeout=seconds + 60,
            env={**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""},
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    if completed.returncode != 0:
        raise SystemExit("pgbench failed:\n" + completed.stdout + completed.stderr)
    tps = re.search(r"tps = ([0-9.]+) \(without initial", completed.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", completed.stdout)
    processed = re.search(r"number of transactions actually processed: (\d+)", completed.stdout)
    return {
        "rps": float(tps.group(1)),
        "p50_ms": float(latency.group(1)) if latency else 0.0,
        "requests": int(processed.group(1)) if processed else 0,
    }


def profile_in_process(token_text: str, big_numbers: list[str], callerid_id: int) -> str:
    """cProfile of authorize and of calls through Django's test client (no HTTP)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_text}"}
    out = io.StringIO()
    for label, send in (
        ("authorize", lambda n: client.post(
            "/api/v1/callback/authorize",
            {"extension": BIG_EXTENSION, "caller_id": big_numbers[n % len(big_numbers)]},
            content_type="application/json", **headers)),
        ("calls", lambda n: client.post(
            "/api/v1/calls", call_payload(callerid_id, f"profile-{time.time_ns()}-{n}"),
            content_type="application/json", **headers)),
        ("bare-json", lambda n: client.post(
            "/bench/bare-json", {"extension": BIG_EXTENSION, "caller_id": "1"},
            content_type="application/json")),
    ):  # fmt: skip
        for n in range(20):
            send(n)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for n in range(300):
            send(n)
        profiler.disable()
        per = (time.perf_counter() - started) / 300 * 1000
        out.write(f"\n--- {label}: 300 requests in-process, {per:.2f} ms each (profiled) ---\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def call_payload(callerid_id: int, call_id: str) -> dict:
    return {
        "call_id": call_id,
        "extension": BIG_EXTENSION,
        "callerid_id": callerid_id,
        "caller_id": HOT_NUMBER,
        "destination": "+4031000000",
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": 60,
        "cost": CALL_COST,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.threads > 20 or args.seconds > 60:
        raise SystemExit("Keep the load bounded: at most 20 threads and 60 seconds.")
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from callback.audit import Actor
    from callback.models import CallbackExtension
    from callback.services.tokens import create_token, revoke_token
    from callerids.models import AuthorizedCallerID, CallerIDStatus

    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    hot = AuthorizedCallerID.objects.get(extension=extension, number=HOT_NUMBER)
    big_numbers = list(
        AuthorizedCallerID.objects.filter(extension=extension, status=CallerIDStatus.ENABLED)
        .order_by("?")
        .values_list("number", flat=True)[:2000]
    )
    new = create_token(actor=Actor(), name=f"bench {time.time_ns()}", reseller=None)
    token = new.plaintext
    port = free_port()
    print(
        f"database {name}; gunicorn {args.workers} sync workers on {HOST}:{port}; "
        f"{args.threads} client threads (Python http.client), {args.seconds} s per run"
    )
    gunicorn = start_gunicorn(port, args.workers)
    try:
        payloads = authorize_payloads(big_numbers)

        def bare(i, n):
            return json_request("/bench/bare-json", payloads[(i * 997 + n) % len(payloads)])

        def authorize(i, n):
            return json_request(
                "/api/v1/callback/authorize", payloads[(i * 997 + n) % len(payloads)], token
            )

        def calls(i, n):
            # A new call_id every time (a repeated one with another start time is a 409).
            return json_request("/api/v1/calls", call_payload(hot.pk, f"b-{uuid.uuid4().hex}"),
                                token)  # fmt: skip

        warm = max(2, args.seconds // 5)
        load(port, args.threads, warm, bare)
        load(port, args.threads, warm, authorize)
        results = {
            "bare": load(port, args.threads, args.seconds, bare),
            "authorize": load(port, args.threads, args.seconds, authorize),
        }
        load(port, args.threads, warm, calls)
        results["calls"] = load(port, args.threads, args.seconds, calls)
    finally:
        stop_gunicorn(gunicorn)
    results["pgbench"] = run_pgbench(args.threads, args.seconds, hot.pk, extension.pk)
    rows = []
    labels = {
        "bare": "POST /bench/bare-json (bare Django JSON view)",
        "authorize": "POST /api/v1/callback/authorize",
        "calls": "POST /api/v1/calls, one CallerID",
        "pgbench": "pgbench, same transaction, one CallerID",
    }
    for key, r in results.items():
        statuses = r.get("statuses")
        rows.append((
            labels[key], f"{r['requests']:,}", f"{r['rps']:,.0f}", f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}" if "p99_ms" in r else "",
            ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) if statuses else "",
            r.get("errors", ""),
        ))  # fmt: skip
    print_table(
        "Throughput (requests or transactions per second; latency in ms, pgbench: average)",
        rows,
        ("run", "done", "per s", "p50", "p99", "HTTP statuses", "errors"),
    )
    authorize_ratio = results["authorize"]["rps"] / results["bare"]["rps"]
    calls_ratio = results["calls"]["rps"] / results["pgbench"]["rps"]
    print("\nGoals")
    print(f"  [{verdict(authorize_ratio >= GOAL)}] authorize {results['authorize']['rps']:,.0f}/s"
          f" = {authorize_ratio:.0%} of the bare JSON view's {results['bare']['rps']:,.0f}/s "
          f"(goal >= 50%)")  # fmt: skip
    print(f"  [{verdict(calls_ratio >= GOAL)}] contended calls {results['calls']['rps']:,.0f}/s "
          f"= {calls_ratio:.0%} of pgbench's {results['pgbench']['rps']:,.0f} transactions/s "
          f"(goal >= 50%)")  # fmt: skip
    if args.profile or authorize_ratio < GOAL or calls_ratio < GOAL:
        print(profile_in_process(token, big_numbers, hot.pk))
    revoke_token(actor=Actor(), token=new.token)


if __name__ == "__main__":
    main()
