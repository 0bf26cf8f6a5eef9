"""calls/start throughput beside authorize (issue 18, SPEC §11), over HTTP against
gunicorn on 127.0.0.1, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python \\
        bench/admission_load.py [--seconds 8] [--repeats 3] [--threads 8] [--workers 3] \\
        [--port 8181]

Seeds (once, idempotently, through the services) an extension of its own with 1,000
CallerIDs of 1,000,000.00 each and no simultaneous-call limit. Then, --repeats times,
interleaved: POST /api/v1/callback/authorize on random CallerIDs of it, and POST
/api/v1/calls/start on random CallerIDs of it (a new call_id each time, 0.01 a minute:
every start is allowed and inserts a hold). Before every run the holds of the previous one
are settled through the service (so each run starts from the same number of open holds).
It prints each run, the medians with their spread, and the ratio start / authorize
(goal: at least 70%); then the same pair measured in-process from one thread (Django's
test client: no HTTP, less exposed to other processes' load), interleaved too. A start
does more than authorize by design (a transaction, the CallerID's row lock, a read of
its open holds, an INSERT, a COMMIT): the ratio says what that costs. The client
threads, gunicorn and PostgreSQL share the machine's CPUs (and, while helpers work, with
other processes): compare ratios of interleaved runs, not the absolute figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import json_request, load, start_gunicorn, stop_gunicorn  # noqa: E402
from bench.common import print_table, require_bench_database, setup_django, verdict  # noqa: E402

GOAL = 0.70
EXTENSION = "8100*001"
CALLERIDS = 1000
CREDIT = Decimal("1000000")


def seed():
    """The bench extension with CALLERIDS CallerIDs (made through the services once)."""
    from callback.models import CallbackExtension
    from callerids.models import License
    from callerids.selectors import get_license
    from callerids.services.callerids import add_callerids
    from callerids.services.validation import NewCallerID
    from tenancy.audit import SYSTEM
    from tenancy.models import Organization, Reseller

    reseller, _ = Reseller.objects.get_or_create(name="Bench admission")
    organization, _ = Organization.objects.get_or_create(reseller=reseller, name="Admission")
    extension, _ = CallbackExtension.objects.get_or_create(
        number=EXTENSION,
        defaults={"organization": organization, "name": "calls/start bench"},
    )
    CallbackExtension.objects.filter(pk=extension.pk).update(
        max_calls_per_callerid=None, max_calls=None, daily_limit=None
    )
    have = extension.callerids.count()
    if have < CALLERIDS:
        license_row = get_license()
        needed = license_row.active_callerids + CALLERIDS - have
        if license_row.max_active_callerids < needed:
            License.objects.filter(pk=1).update(max_active_callerids=needed)
        rows = [NewCallerID(f"+4072{n:07d}", credit=CREDIT) for n in range(have, CALLERIDS)]
        for chunk in range(0, len(rows), 10):  # the service's (the form's) batch size
            add_callerids(actor=SYSTEM, extension=extension, rows=rows[chunk : chunk + 10])
    return extension


def settle_open_holds(extension, token) -> int:
    """Report every open hold of the bench extension (cost from its start), as the PBX
    would: the balances stay consistent and each run starts without open holds."""
    from credit.models import CallHold, HoldStatus
    from credit.services.calls import CallReport, report_call
    from tenancy.audit import Actor

    settled = 0
    holds = CallHold.objects.filter(extension=extension, status=HoldStatus.OPEN).values_list(
        "call_id", "callerid_id", "started_at"
    )
    for call_id, callerid_id, started_at in holds.iterator(chunk_size=2000):
        report_call(
            token=token,
            report=CallReport(
                call_id=call_id,
                extension=EXTENSION,
                callerid_id=callerid_id,
                caller_id="",
                destination="+4031000000",
                started_at=started_at,
                duration_seconds=30,
                cost=None,
            ),
            actor=Actor(token=token),
        )
        settled += 1
    return settled


def in_process(token: str, picks, repeats: int, count: int = 300) -> dict[str, list[float]]:
    """Requests per second of one thread through Django's test client (no HTTP, no
    queueing behind other processes' CPU use): interleaved authorize and start runs."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def authorize(n):
        _, number = picks[n % len(picks)]
        client.post(
            "/api/v1/callback/authorize",
            {"extension": EXTENSION, "caller_id": number},
            content_type="application/json",
            **headers,
        )

    def start(n):
        pk, _ = picks[n % len(picks)]
        client.post(
            "/api/v1/calls/start",
            {
                "call_id": f"bench-{uuid.uuid4().hex}",
                "extension": EXTENSION,
                "callerid_id": pk,
                "destination": "+4031000000",
                "rate_per_minute": "0.0100",
            },
            content_type="application/json",
            **headers,
        )

    rates: dict[str, list[float]] = {"authorize": [], "start": []}
    for send in (authorize, start):
        for n in range(30):
            send(n)
    for repeat in range(repeats):
        for key, send in (("authorize", authorize), ("start", start)):
            started = time.perf_counter()
            for n in range(count):
                send(repeat * count + n)
            rates[key].append(count / (time.perf_counter() - started))
    return rates


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}–{max(values):,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8181)
    args = parser.parse_args()
    if args.threads > 20 or args.seconds > 60 or args.repeats > 10:
        raise SystemExit("Keep the load bounded: at most 20 threads, 60 s, 10 repeats.")
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from callerids.models import AuthorizedCallerID
    from tenancy.audit import Actor
    from tenancy.services.tokens import create_token, revoke_token

    extension = seed()
    callerids = list(
        AuthorizedCallerID.objects.filter(extension=extension).values_list("pk", "number")
    )
    new = create_token(actor=Actor(), name=f"bench admission {time.time_ns()}", reseller=None)
    token = new.plaintext
    rng = random.Random(18)
    picks = [rng.choice(callerids) for _ in range(5000)]
    print(
        f"database {name}; extension {EXTENSION} with {len(callerids):,} CallerIDs; gunicorn "
        f"{args.workers} sync workers on 127.0.0.1:{args.port}; {args.threads} client threads; "
        f"{args.seconds} s per run, {args.repeats} interleaved repeats"
    )

    def authorize(i, n):
        _, number = picks[(i * 997 + n) % len(picks)]
        return json_request(
            "/api/v1/callback/authorize", {"extension": EXTENSION, "caller_id": number}, token
        )

    def start(i, n):
        pk, _ = picks[(i * 997 + n) % len(picks)]
        body = {
            "call_id": f"bench-{uuid.uuid4().hex}",
            "extension": EXTENSION,
            "callerid_id": pk,
            "destination": "+4031000000",
            "rate_per_minute": "0.0100",
        }
        return json_request("/api/v1/calls/start", body, token)

    settle_open_holds(extension, new.token)
    gunicorn = start_gunicorn(args.port, args.workers)
    runs: dict[str, list[dict]] = {"authorize": [], "start": []}
    try:
        warm = max(2, args.seconds // 4)
        load(args.port, args.threads, warm, authorize)
        load(args.port, args.threads, warm, start)
        for _ in range(args.repeats):
            settle_open_holds(extension, new.token)
            runs["authorize"].append(load(args.port, args.threads, args.seconds, authorize))
            runs["start"].append(load(args.port, args.threads, args.seconds, start))
    finally:
        stop_gunicorn(gunicorn)
    settle_open_holds(extension, new.token)
    local = in_process(token, picks, args.repeats)
    settled = settle_open_holds(extension, new.token)
    revoke_token(actor=Actor(), token=new.token)

    rows = []
    for index in range(args.repeats):
        for key, label in (("authorize", "authorize"), ("start", "calls/start")):
            r = runs[key][index]
            rows.append((
                index + 1, label, f"{r['requests']:,}", f"{r['rps']:,.0f}",
                f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())), r["errors"],
            ))  # fmt: skip
    print_table(
        "Runs (requests per second; latency in ms)",
        rows,
        ("repeat", "endpoint", "done", "per s", "p50", "p99", "HTTP statuses", "errors"),
    )
    authorize_rps = [r["rps"] for r in runs["authorize"]]
    start_rps = [r["rps"] for r in runs["start"]]
    ratios = [s / a for s, a in zip(start_rps, authorize_rps, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"\nMedians: authorize {statistics.median(authorize_rps):,.0f}/s "
        f"(spread {spread(authorize_rps)}), calls/start {statistics.median(start_rps):,.0f}/s "
        f"(spread {spread(start_rps)}); per-repeat ratios " + ", ".join(f"{r:.0%}" for r in ratios)
    )
    print(
        f"  [{verdict(ratio >= GOAL)}] calls/start at {ratio:.0%} of authorize's rate "
        f"(median of the interleaved ratios; goal >= {GOAL:.0%})"
    )
    local_ratios = [s / a for s, a in zip(local["start"], local["authorize"], strict=True)]
    print(
        f"\nIn-process, one thread (Django test client, no HTTP): authorize "
        f"{statistics.median(local['authorize']):,.0f}/s (spread {spread(local['authorize'])}), "
        f"calls/start {statistics.median(local['start']):,.0f}/s (spread "
        f"{spread(local['start'])}); ratios " + ", ".join(f"{r:.0%}" for r in local_ratios)
    )
    print(
        f"  [{verdict(statistics.median(local_ratios) >= GOAL)}] calls/start at "
        f"{statistics.median(local_ratios):.0%} of authorize's rate in-process"
    )
    print(f"  {settled:,} holds of the last run settled afterwards; run check_ledger to verify.")


if __name__ == "__main__":
    main()
