"""Provisioning API bulk create benchmark (issue 20), over HTTP against gunicorn.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench
    .venv/bin/python bench/provisioning_bulk.py
    ... bench/provisioning_bulk.py --repeats 9 --port 8201

Goal: `POST /api/v1/extensions/<number>/callerids` with 1,000 CallerIDs (each with a PIN,
an initial credit and an order number) answers in under 2 s on PostgreSQL.

The script migrates the database, makes its own reseller, organization and one fresh
extension per run (`8900*<run>`, numbers never seen before), raises the license by what
it will add, creates a provisioning token (revoked at the end) and starts gunicorn (one
sync worker) on --port. Interleaved, --repeats times: a 1-row create (the fixed cost of a
request: token, extension, locks, commit) and a 1,000-row create; it prints the median,
min and max of each and the cost per row. The client, gunicorn and PostgreSQL share the
machine's CPUs (and, while other work runs, with it): the figures are noisy; the median
of interleaved runs is what to read. gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, print_table, require_bench_database, setup_django, verdict  # noqa: E402

HOST = "127.0.0.1"
GOAL_SECONDS = 2.0
ROWS = 1000
RESELLER = "Bench provisioning reseller"


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
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
            "--workers", "1",
            "--timeout", "120",
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
    raise SystemExit(f"gunicorn did not answer /healthz on port {port} within 30 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(port: int, path: str, body: dict, token: str) -> tuple[int, float, dict]:
    data = json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    started = time.perf_counter()
    connection.request("POST", path, body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed, json.loads(payload)


def rows(run: int, count: int) -> list[dict]:
    return [
        {
            "number": f"+4072{run:03d}{i:04d}",
            "pin": f"{1000 + i % 9000}",
            "initial_credit": f"{i % 50}.25",
            "order_number": f"BENCH-{run}-{i}",
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--port", type=int, default=8201)
    args = parser.parse_args()
    if not 1 <= args.repeats <= 50:
        raise SystemExit("--repeats: 1 to 50")
    setup_django()
    name = require_bench_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from callback.models import CallbackExtension
    from callerids.models import License
    from callerids.selectors import get_license
    from tenancy.audit import SYSTEM
    from tenancy.models import ChargingPreferences, Organization, Reseller
    from tenancy.services.tokens import create_token, revoke_token

    reseller, _ = Reseller.objects.get_or_create(name=RESELLER)
    organization, _ = Organization.objects.get_or_create(reseller=reseller, name="Bench shop")
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"default_country": "RO"})
    stamp = int(time.time()) % 10_000_000
    extensions = []
    for run in range(args.repeats * 2 + 1):
        number = f"89{stamp:07d}*{run + 1:03d}"
        CallbackExtension.objects.create(organization=organization, number=number)
        extensions.append(number)
    license_row = get_license()
    License.objects.filter(pk=1).update(
        max_active_callerids=max(
            license_row.max_active_callerids,
            license_row.active_callerids + args.repeats * (ROWS + 1) + 10,
        )
    )
    token = create_token(
        actor=SYSTEM, name=f"bench {stamp}", reseller=reseller, permissions=["provisioning"]
    )
    print(
        f"database {name}; gunicorn 1 sync worker on {HOST}:{args.port}; "
        f"{args.repeats} interleaved repeats; machine shared with other work (noisy)"
    )
    gunicorn = start_gunicorn(args.port)
    one, thousand = [], []
    try:
        # A warm-up request: the worker's first request loads modules and connects.
        post(
            args.port,
            f"/api/v1/extensions/{extensions[-1]}/callerids",
            {"callerids": rows(999, 1)},
            token.plaintext,
        )
        for run in range(args.repeats):
            for target, count, into in (
                (extensions[2 * run], 1, one),
                (extensions[2 * run + 1], ROWS, thousand),
            ):
                status, elapsed, body = post(
                    args.port,
                    f"/api/v1/extensions/{target}/callerids",
                    {"callerids": rows(run, count)},
                    token.plaintext,
                )
                if status != 201 or len(body.get("callerids", [])) != count:
                    raise SystemExit(f"unexpected answer {status}: {str(body)[:300]}")
                into.append(elapsed)
    finally:
        stop_gunicorn(gunicorn)
        revoke_token(actor=SYSTEM, token=token.token)

    def stats(values):
        return (
            f"{statistics.median(values):.3f}",
            f"{min(values):.3f}",
            f"{max(values):.3f}",
        )

    per_row_ms = (statistics.median(thousand) - statistics.median(one)) / (ROWS - 1) * 1000
    print_table(
        "POST /api/v1/extensions/<number>/callerids over HTTP (seconds)",
        [("1 row", *stats(one)), (f"{ROWS} rows", *stats(thousand))],
        ("request", "median", "min", "max"),
    )
    print(f"\n  cost per added row (median difference / {ROWS - 1}): {per_row_ms:.2f} ms")
    median = statistics.median(thousand)
    print(
        f"  goal: {ROWS} CallerIDs in under {GOAL_SECONDS:.0f} s: median {median:.3f} s "
        f"[{verdict(median < GOAL_SECONDS)}]"
    )


if __name__ == "__main__":
    main()
