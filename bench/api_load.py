"""PBX API load benchmark (issue 12), over HTTP against gunicorn on 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/api_load.py
    ... bench/api_load.py --seconds 10 --processes 4 --threads 4 --repeats 3
    ... bench/api_load.py --workers 3     # override gunicorn.conf.py's worker count
    ... bench/api_load.py --profile       # cProfile of authorize and calls, in-process
    ... bench/api_load.py --authorize-only --repeats 5   # the bare view and authorize only

The script starts gunicorn with the production configuration (gunicorn.conf.py: gthread
workers; settings bench/bench_settings.py: the real URLs plus a bare JSON view, same
middleware), creates a server-wide API token (revoked at the end), and from --processes
client processes of --threads threads each (http.client, keep-alive connections; several
processes so the client's own GIL does not cap the baseline) measures, each for
--seconds, --repeats times interleaved (medians, [min-max]):
  1. POST /bench/bare-json (a bare Django JSON view) and POST /api/v1/callback/authorize
     (random CallerIDs of the 100,000-CallerID extension): requests/s, goal >= 60%;
  2. POST /api/v1/calls, every request charging the same CallerID (+40800000000 on
     8000*001, seeded with 1,000,000.0000), next to pgbench running the same transaction
     with as many clients (processes x threads): the statements the service runs today,
     captured from one report made in-process and rolled back (pgbench_script: lock the
     CallerID row, read its holds, one statement writing the call, its ledger row, the
     balance, the reseller's day and credit totals): calls/s vs transactions/s, goal >= 50%.
gunicorn is stopped at the end. The client threads, gunicorn and PostgreSQL share the
machine's CPUs: compare the ratios, not the absolute figures. The rows written by both
keep check_ledger clean (each balance is computed under the CallerID's row lock).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import server  # noqa: E402
from bench.common import (  # noqa: E402
    BIG_EXTENSION,
    HOT_NUMBER,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)
from bench.server import HOST, free_port  # noqa: E402
from bench.server import load as multi_load  # noqa: E402

GOAL_AUTHORIZE = 0.6
GOAL_CALLS = 0.5
CALL_COST = "0.0100"


def start_gunicorn(port: int, *extra: str, settings_module: str = "bench.bench_settings"):
    return server.start_gunicorn(port, *extra, settings_module=settings_module)


def stop_gunicorn(process) -> None:
    server.stop(process)


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class ServerCPU:
    """CPU seconds the server side spends: the gunicorn workers and the PostgreSQL backends
    of this database (other sessions' work on the machine is not counted, so the CPU per
    request holds still when the load average does not)."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.gunicorn_pid = gunicorn_pid

    def _pids(self) -> tuple[list[int], list[int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        return [self.gunicorn_pid, *_children(self.gunicorn_pid)], backends

    def sample(self) -> dict[str, dict[int, float]]:
        app, database = self._pids()
        return {
            "app": {pid: _cpu_seconds(pid) for pid in app},
            "database": {pid: _cpu_seconds(pid) for pid in database},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        """CPU seconds between two samples: gunicorn ("app"), PostgreSQL ("database")."""
        return {
            part: sum(value - before[part].get(pid, 0.0) for pid, value in after[part].items())
            for part in ("app", "database")
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


_TEMPLATE_CALL_ID = "pgbench-template-call"


def pgbench_script(token_text: str, callerid_id: int) -> str:
    """pgbench's transaction: the very statements a call report runs today, captured.

    One report is made in-process through the service (credit.services.calls.report_call)
    inside a transaction that is then rolled back, and every prepared statement it runs
    (database.prepared.Statement) is recorded with its parameters: the CallerID's lock,
    the read of its holds (which also expires overdue ones), the one write statement (the
    call, its ledger row, the balance, the reseller's day and credit totals). They become
    the script, literal values inlined, except: the call_id (`'pgbench-' ||
    txid_current()`, unique per transaction), and the new balance, computed from the
    locked value as the service computes it (`:lock_available - cost`). The token lookup
    before the transaction is left out: pgbench gets the transaction alone.
    """
    from django.db import connection, transaction

    import database.prepared
    from api.auth import authenticate_token
    from credit.services.calls import CallReport, report_call
    from tenancy.audit import Actor

    token = authenticate_token(token_text, address=None)
    recorded: list[tuple[str, list]] = []
    original = database.prepared.Statement.execute

    def record(self, cursor, params):
        recorded.append((self.sql, list(params)))
        return original(self, cursor, params)

    report = CallReport(
        call_id=_TEMPLATE_CALL_ID,
        extension=BIG_EXTENSION,
        callerid_id=callerid_id,
        caller_id=HOT_NUMBER,
        destination="+4031000000",
        started_at=datetime.now(UTC).replace(microsecond=0),
        duration_seconds=60,
        cost=Decimal(CALL_COST),
    )
    database.prepared.Statement.execute = record
    try:
        with transaction.atomic():
            outcome = report_call(token=token, report=report, actor=Actor(token=token))
            transaction.set_rollback(True)
    finally:
        database.prepared.Statement.execute = original
    balance = f"{outcome.available:f}"
    lines = ["BEGIN;"]
    with connection.cursor() as cursor:
        for n, (sql, params) in enumerate(recorded):
            text = cursor.cursor.mogrify(sql, params).decode()
            text = text.replace(f"'{_TEMPLATE_CALL_ID}'", "('pgbench-' || txid_current())")
            text = re.sub(rf"(?<![0-9.]){re.escape(balance)}(?![0-9])",
                          f"(:lock_available - {CALL_COST})", text)  # fmt: skip
            # pgbench reads a command up to ';' (across lines for SQL); the lock's values go
            # into variables (lock_available).
            lines.append(text + (" \\gset lock_" if n == 0 else ";"))
    lines.append("END;")
    return "\n".join(lines) + "\n"


def run_pgbench(clients: int, seconds: int, script: str) -> dict:
    from django.db import connection

    settings = connection.settings_dict
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


def bare_requests(payloads):
    def make(client, n):
        return ("POST", *json_request("/bench/bare-json", payloads[(client * 997 + n) % 5000]))

    return make


def authorize_requests(payloads, token):
    def make(client, n):
        payload = payloads[(client * 997 + n) % len(payloads)]
        return ("POST", *json_request("/api/v1/callback/authorize", payload, token))

    return make


def calls_requests(callerid_id, token):
    def make(client, n):
        # A new call_id every time (a repeated one with another start time is a 409).
        payload = call_payload(callerid_id, f"b-{uuid.uuid4().hex}")
        return ("POST", *json_request("/api/v1/calls", payload, token))

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn.conf.py)")
    parser.add_argument("--gunicorn-threads", type=int, help="threads per worker")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--authorize-only",
        action="store_true",
        help="only the bare view and authorize (no calls, no pgbench): more repeats per minute",
    )
    parser.add_argument(
        "--settings",
        default="bench.bench_settings",
        help="settings module (bench.bench_settings_psycopg3: see its doc)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    args = parser.parse_args()
    clients = args.processes * args.threads
    if clients > 40 or args.seconds > 60:
        raise SystemExit("Keep the load bounded: at most 40 clients and 60 seconds.")
    setup_django(settings_module=args.settings)
    name = require_bench_database()
    from django.db import connection

    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID, CallerIDStatus
    from tenancy.audit import Actor
    from tenancy.services.tokens import create_token, revoke_token

    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    hot = AuthorizedCallerID.objects.get(extension=extension, number=HOT_NUMBER)
    big_numbers = list(
        AuthorizedCallerID.objects.filter(extension=extension, status=CallerIDStatus.ENABLED)
        .order_by("?")
        .values_list("number", flat=True)[:2000]
    )
    new = create_token(actor=Actor(), name=f"bench {time.time_ns()}", reseller=None)
    token = new.plaintext
    script = pgbench_script(token, hot.pk)
    driver = connection.Database.__name__
    connection.close()
    extra = []
    if args.workers:
        extra += ["--workers", str(args.workers)]
    if args.gunicorn_threads:
        extra += ["--threads", str(args.gunicorn_threads)]
    port = free_port()
    print(
        f"database {name} (driver {driver}, settings {args.settings}); "
        f"gunicorn -c gunicorn.conf.py {' '.join(extra)} "
        f"on {HOST}:{port}; {args.processes} client processes x {args.threads} threads; "
        f"{args.seconds} s per run, {args.repeats} interleaved repeats; 2 shared CPUs"
    )
    payloads = authorize_payloads(big_numbers)
    runs = {
        "bare": (bare_requests, (payloads,)),
        "authorize": (authorize_requests, (payloads, token)),
        "calls": (calls_requests, (hot.pk, token)),
    }
    if args.authorize_only:
        del runs["calls"]
    results: dict[str, list[dict]] = {key: [] for key in runs}
    if not args.authorize_only:
        results["pgbench"] = []
    gunicorn = start_gunicorn(port, *extra, settings_module=args.settings)
    try:
        warm = max(2, args.seconds // 5)
        for factory, factory_args in runs.values():
            multi_load(port, factory, factory_args, processes=args.processes,
                       threads=args.threads, seconds=warm)  # fmt: skip
        cpu = ServerCPU(gunicorn.pid)
        for _ in range(args.repeats):
            for key, (factory, factory_args) in runs.items():
                before = cpu.sample()
                result = multi_load(port, factory, factory_args, processes=args.processes,
                                    threads=args.threads, seconds=args.seconds)  # fmt: skip
                spent = ServerCPU.spent(before, cpu.sample())
                done = max(result["requests"], 1)
                result["cpu_ms"] = (spent["app"] + spent["database"]) / done * 1000
                result["app_cpu_ms"] = spent["app"] / done * 1000
                result.pop("bodies", None)
                results[key].append(result)
            if not args.authorize_only:
                results["pgbench"].append(run_pgbench(clients, args.seconds, script))
            print(f"  repeat done, load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        stop_gunicorn(gunicorn)
    labels = {
        "bare": "POST /bench/bare-json (bare Django JSON view)",
        "authorize": "POST /api/v1/callback/authorize",
        "calls": "POST /api/v1/calls, one CallerID",
        "pgbench": "pgbench, the same statements, one CallerID",
    }
    rows = []
    for key, runs_of_key in results.items():
        rates = [r["rps"] for r in runs_of_key]
        statuses: dict = {}
        for r in runs_of_key:
            for status, count in (r.get("statuses") or {}).items():
                statuses[status] = statuses.get(status, 0) + count
        rows.append((
            labels[key], f"{sum(r['requests'] for r in runs_of_key):,}",
            f"{statistics.median(rates):,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]",
            f"{statistics.median(r['p50_ms'] for r in runs_of_key):.1f}",
            f"{statistics.median(r['p99_ms'] for r in runs_of_key):.1f}"
            if "p99_ms" in runs_of_key[0] else "",
            ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
            sum(r.get("errors", 0) for r in runs_of_key) if key != "pgbench" else "",
        ))  # fmt: skip
    print_table(
        "Throughput per second, median [min-max] of the repeats; latency ms (pgbench: average)",
        rows,
        ("run", "done", "per s", "p50", "p99", "HTTP statuses", "errors"),
    )

    def ratio_of(a, b):
        per_run = [x["rps"] / y["rps"] for x, y in zip(results[a], results[b], strict=True)]
        return statistics.median(per_run), min(per_run), max(per_run)

    authorize_ratio, a_low, a_high = ratio_of("authorize", "bare")
    print("\nServer CPU per request (gunicorn workers + this database's PostgreSQL backends),")
    print("median [min-max] of the repeats; requests/s the CPU alone would allow is its inverse")
    for key in runs:
        per = [r["cpu_ms"] for r in results[key]]
        app = statistics.median(r["app_cpu_ms"] for r in results[key])
        print(
            f"  {labels[key]:46s} {statistics.median(per):.2f} ms [{min(per):.2f}-{max(per):.2f}]"
            f" (gunicorn {app:.2f}, PostgreSQL {statistics.median(per) - app:.2f})"
        )
    per_run = [b["cpu_ms"] / a["cpu_ms"] for a, b in zip(results["authorize"], results["bare"],
                                                            strict=True)]  # fmt: skip
    print(f"  bare / authorize (the ratio of requests/s on equal CPU): "
          f"{statistics.median(per_run):.0%} [{min(per_run):.0%}-{max(per_run):.0%}]")  # fmt: skip
    print("\nGoals (median of the per-repeat ratios [min-max])")
    print(f"  [{verdict(authorize_ratio >= GOAL_AUTHORIZE)}] authorize = {authorize_ratio:.0%} "
          f"[{a_low:.0%}-{a_high:.0%}] of the bare JSON view (goal >= 60%)")  # fmt: skip
    if not args.authorize_only:
        calls_ratio, c_low, c_high = ratio_of("calls", "pgbench")
        print(
            f"  [{verdict(calls_ratio >= GOAL_CALLS)}] contended calls = {calls_ratio:.0%} "
            f"[{c_low:.0%}-{c_high:.0%}] of pgbench's same transaction (goal >= 50%)"
        )
    print(f"  load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if args.profile:
        print(profile_in_process(token, big_numbers, hot.pk))
    revoke_token(actor=Actor(), token=new.token)
    if args.json:
        print(json.dumps({
            "driver": driver, "settings": args.settings,
            **{key: [r["rps"] for r in runs_of_key] for key, runs_of_key in results.items()},
            "errors": sum(r.get("errors", 0) for k in runs for r in results[k]),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
