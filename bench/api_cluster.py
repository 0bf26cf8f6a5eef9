"""Two app servers, one database (issue 21): the API's contended-calls scenario through a
local HAProxy in front of one, then two, gunicorn instances on the same PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/api_cluster.py
    ... bench/api_cluster.py --seconds 15 --processes 4 --threads 4 --workers 2
    BENCH_PORTS=8210-8219 ...      # keep the servers and HAProxy in a port range

Each gunicorn runs the production configuration (gunicorn.conf.py; --workers per server),
HAProxy (/usr/sbin/haproxy, round robin, health-checked on /healthz) listens in front, and
load clients in several processes POST /api/v1/calls for --seconds, every call charging one
limited CallerID of 8000*001 (a different one for each run) whose credit runs out after
about 300 calls; a third of the requests repeat a call_id another client sends too
(identical report: the API must answer 200 with the original body and charge nothing).
After each run the script checks, from the database:
  - no overspend: available >= 0 and the credit spent == the sum charged to its calls;
  - one charge per call_id: one Call and one `call` ledger row per call_id, every call_id
    answered 200/201 and never charged twice; the last ledger row's balance == available;
and prints calls/s with one server and with two. Seed first (bench/seed.py). The machine's
CPUs are shared by the clients, both servers, HAProxy and PostgreSQL: on one 2-core
machine a second server adds processes, not CPU, so expect little gain; the point measured
is that two servers stay correct on one database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BIG_EXTENSION,
    HOT_NUMBER,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)
from bench.server import free_port, load, start_gunicorn, start_haproxy, stop  # noqa: E402

CALL_IDS = 400  # call_ids shared by the clients for the repeats


def call_requests(token, callerid_id, run, cost, base):
    """Request maker (in the load processes): 2 in 3 requests a new call, 1 in 3 a call_id
    from a shared set of CALL_IDS, each always reported with the same values."""

    def payload(call_id: str, k: int) -> bytes:
        return json.dumps({
            "call_id": call_id, "extension": BIG_EXTENSION, "callerid_id": callerid_id,
            "caller_id": "+40800000001", "destination": "+4031000000",
            "started_at": (base + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_seconds": 60, "cost": cost,
        }).encode()  # fmt: skip

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def make(client: int, n: int):
        if n % 3 == 2:
            k = (client * 7919 + n) % CALL_IDS
            call_id = f"cl-{run}-shared-{k}"
        else:
            k = n
            call_id = f"cl-{run}-{uuid.uuid4().hex}"
        return "POST", "/api/v1/calls", payload(call_id, k), headers

    return make


def pick_callerid(exclude: set[int]):
    from callerids.models import AuthorizedCallerID, CallerIDStatus

    return (
        AuthorizedCallerID.objects.filter(
            extension__number=BIG_EXTENSION,
            status=CallerIDStatus.ENABLED,
            unlimited=False,
            available__gte=Decimal("50"),
        )
        .exclude(number=HOT_NUMBER)
        .exclude(pk__in=exclude)
        .order_by("pk")
        .first()
    )


def check(run: str, callerid, before: Decimal, bodies) -> list[tuple[str, bool]]:
    from django.db.models import Count, Sum

    from credit.models import Call, LedgerEntry, LedgerKind

    callerid.refresh_from_db()
    calls = Call.objects.filter(call_id__startswith=f"cl-{run}-")
    charged = calls.aggregate(total=Sum("charged"))["total"] or Decimal("0")
    ledger = LedgerEntry.objects.filter(call__in=calls, kind=LedgerKind.CALL)
    per_call = ledger.values("call_id").annotate(n=Count("id")).filter(n__gt=1).count()
    last = LedgerEntry.objects.filter(callerid=callerid).order_by("-id").first()
    answered: dict[str, set] = {}
    statuses: dict[int, int] = {}
    for status, content in bodies:
        statuses[status] = statuses.get(status, 0) + 1
        if status in (200, 201):
            body = json.loads(content)
            answered.setdefault(body["call_id"], set()).add((body["charged"], body["shortfall"]))
    stored = {c.call_id: (f"{c.charged:.4f}", f"{c.shortfall:.4f}") for c in calls}
    same_answers = all(len(v) == 1 and next(iter(v)) == stored.get(k) for k, v in answered.items())
    return [
        (f"statuses {dict(sorted(statuses.items()))}: only 200 and 201",
         set(statuses) <= {200, 201}),
        (f"available {callerid.available} >= 0 (credit before: {before})",
         callerid.available >= 0),
        (f"credit spent {before - callerid.available} == charged to the calls {charged}",
         before - callerid.available == charged),
        (f"{calls.count():,} calls stored for {len(answered):,} call_ids answered; "
         f"{ledger.count():,} call ledger rows", calls.count() == len(answered) == ledger.count()),
        (f"call_ids charged twice: {per_call}", per_call == 0),
        ("every answer for a call_id (repeats included) == the stored charge", same_answers),
        (f"last ledger balance {last.balance_after} == available", last.balance_after
         == callerid.available),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each layout")
    args = parser.parse_args()
    if args.processes * args.threads > 40:
        raise SystemExit("Keep the load bounded: at most 40 client threads.")
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.db import connection

    from tenancy.audit import Actor
    from tenancy.services.tokens import create_token, revoke_token

    new = create_token(actor=Actor(), name=f"bench cluster {time.time_ns()}", reseller=None)
    connection.close()
    ports = [free_port(), free_port()]
    front = free_port()
    print(f"database {name}; HAProxy on {front} -> gunicorn -c gunicorn.conf.py --workers "
          f"{args.workers} on {ports}; {args.processes} client processes x {args.threads} "
          f"threads; {args.seconds} s per run; 2 shared CPUs")  # fmt: skip
    servers = [start_gunicorn(port, "--workers", str(args.workers)) for port in ports]
    results: dict[str, list[dict]] = {"one server": [], "two servers": []}
    checks: list[tuple[str, str, bool]] = []
    used: set[int] = set()
    try:
        for repeat in range(args.repeats):
            for layout, backends in (("one server", ports[:1]), ("two servers", ports)):
                haproxy, config = start_haproxy(front, backends)
                try:
                    callerid = pick_callerid(used)
                    used.add(callerid.pk)
                    before = callerid.available
                    cost = str((before / 300).quantize(Decimal("0.0001"), rounding=ROUND_DOWN))
                    run = f"{uuid.uuid4().hex[:8]}"
                    base = datetime.now(UTC).replace(microsecond=0)
                    connection.close()
                    result = load(front, call_requests, (new.plaintext, callerid.pk, run, cost,
                                                         base),
                                  processes=args.processes, threads=args.threads,
                                  seconds=args.seconds)  # fmt: skip
                finally:
                    stop(haproxy)
                    Path(config).unlink(missing_ok=True)
                results[layout].append(result)
                for text, ok in check(run, callerid, before, result["bodies"]):
                    checks.append((f"{layout}, run {repeat + 1}", text, ok))
    finally:
        for server in servers:
            stop(server)
        revoke_token(actor=Actor(), token=new.token)
    rows = []
    for layout, runs in results.items():
        rates = [r["rps"] for r in runs]
        rows.append((layout, f"{sum(r['requests'] for r in runs):,}",
                     f"{statistics.median(rates):,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]",
                     f"{statistics.median(r['p50_ms'] for r in runs):.1f}",
                     f"{statistics.median(r['p99_ms'] for r in runs):.1f}",
                     sum(r["errors"] for r in runs)))  # fmt: skip
    print_table("POST /api/v1/calls through HAProxy, one CallerID, calls/s median [min-max]",
                rows, ("layout", "requests", "per s", "p50 ms", "p99 ms", "errors"))  # fmt: skip
    print("\nChecks (from the database, after each run)")
    for where, text, ok in checks:
        print(f"  [{'OK' if ok else 'FAILED'}] {where}: {text}")
    one = statistics.median(r["rps"] for r in results["one server"])
    two = statistics.median(r["rps"] for r in results["two servers"])
    print("\nGoals")
    print(
        f"  [{verdict(all(ok for _, _, ok in checks))}] no overspend, one charge per call_id "
        f"through two servers ({sum(ok for _, _, ok in checks)}/{len(checks)} checks)"
    )
    print(
        f"  two servers / one server throughput: {two / one:.2f}x ({two:,.0f} vs {one:,.0f} "
        "calls/s; one row lock serializes these calls, and both servers share 2 CPUs)"
    )


if __name__ == "__main__":
    main()
