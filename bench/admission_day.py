"""A scripted day of traffic through call admission (issue 18, SPEC §11): not a timed
test, a replay that prints its figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python \\
        bench/admission_day.py [--calls 2000] [--callerids 100] [--seed 18]

Makes (through the services) an extension with --callerids CallerIDs of 1.00 to 40.00
each, at most 3 simultaneous calls per CallerID and 30 minutes per call, and replays one
simulated day on the services' own clock (`now=`): --calls calls started at random
times, a few CallerIDs calling much more than the others (so calls overlap), each asking
calls/start and, when allowed, lasting what the caller wants but never more than the time
limit it was given; most are reported when they end, some late (within the 5-minute
grace, or after the hold expired), some never (they expire). Reports leave out the cost
a third of the time (it is then computed from the start). The periodic expiry runs every
simulated minute; 150 recharges and negative adjustments happen during the day.

After every event it checks that the CallerID's open holds do not pass its balance; at the
end it prints the figures, checks that every call that stayed within its time limit and was
reported before its hold expired has shortfall 0, and runs check_ledger.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, require_bench_database, setup_django, verdict  # noqa: E402

FOUR = Decimal("0.0001")


def seed(callerid_count: int, rng: random.Random):
    """A fresh extension (its number suffixed by the run) with its CallerIDs."""
    from callback.models import CallbackExtension
    from callerids.models import License
    from callerids.selectors import get_license
    from callerids.services.callerids import add_callerids
    from callerids.services.validation import NewCallerID
    from tenancy.audit import SYSTEM
    from tenancy.models import Organization, Reseller
    from tenancy.preferences import get_preferences

    preferences = get_preferences()
    if preferences.decimals < 2:
        raise SystemExit("The day needs the charging preferences to show 2 decimals or more.")
    reseller, _ = Reseller.objects.get_or_create(name="Bench admission")
    organization, _ = Organization.objects.get_or_create(reseller=reseller, name="Admission")
    run = time.strftime("%H%M%S")
    extension = CallbackExtension.objects.create(
        organization=organization,
        number=f"8102*{run}",
        name="a day of traffic",
        max_call_duration_seconds=1800,
        max_calls_per_callerid=3,
    )
    license_row = get_license()
    needed = license_row.active_callerids + callerid_count
    if license_row.max_active_callerids < needed:
        License.objects.filter(pk=1).update(max_active_callerids=needed)
    rows = [
        NewCallerID(f"+4073{n:07d}", credit=Decimal(rng.randint(100, 4000)) / 100)
        for n in range(callerid_count)
    ]
    made = []
    for chunk in range(0, len(rows), 10):  # the service's batch size
        made += add_callerids(
            actor=SYSTEM, extension=extension, rows=rows[chunk : chunk + 10]
        ).callerids
    return extension, [c.pk for c in made]


def holds_within_balance(callerid_id: int) -> tuple[bool, Decimal, Decimal | None]:
    from callerids.models import AuthorizedCallerID
    from credit.selectors_holds import open_holds_of

    callerid = AuthorizedCallerID.objects.only("available", "unlimited").get(pk=callerid_id)
    held = open_holds_of(callerid_id).total
    if callerid.unlimited:
        return held == 0, held, None
    return held <= callerid.available, held, callerid.available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--callerids", type=int, default=100)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    setup_django()
    name = require_bench_database()
    from io import StringIO

    from django.core.management import CommandError, call_command

    from credit.models import Call
    from credit.services.calls import CallReport, report_call
    from credit.services.holds import CallStart, expires_at, release_expired_holds, start_call
    from credit.services.recharge import add_credit
    from tenancy.audit import SYSTEM, Actor
    from tenancy.services.tokens import create_token, revoke_token
    from values.errors import DomainError

    rng = random.Random(args.seed)
    extension, callerids = seed(args.callerids, rng)
    new = create_token(actor=SYSTEM, name=f"bench day {time.time_ns()}", reseller=None)
    token = new.token
    actor = Actor(token=token)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # A few CallerIDs call much more than the others: their calls overlap.
    weights = [1 / (rank + 1) for rank in range(len(callerids))]

    events: list[tuple] = []  # (time, order, kind, data)
    order = 0

    def push(when, kind, data):
        nonlocal order
        order += 1
        heapq.heappush(events, (when, order, kind, data))

    for n in range(args.calls):
        when = day + timedelta(seconds=rng.uniform(0, 86_400 - 3_600))
        callerid = rng.choices(callerids, weights)[0]
        push(when, "start", {"n": n, "callerid": callerid})
    for minute in range(0, 24 * 60 + 60):
        push(day + timedelta(minutes=minute, seconds=30), "expiry", None)
    for _ in range(150):
        when = day + timedelta(seconds=rng.uniform(0, 86_400))
        amount = Decimal(rng.choice(["5", "10", "20", "-0.50", "-2"]))
        push(when, "credit", {"callerid": rng.choice(callerids), "amount": amount})

    counts: Counter = Counter()
    reasons: Counter = Counter()
    in_progress = 0
    peak_in_progress = 0
    violations: list[str] = []
    within_limit_shortfall: list[str] = []
    reported: dict[str, dict] = {}
    started_clock = time.perf_counter()
    while events:
        now, _, kind, data = heapq.heappop(events)
        if kind == "expiry":
            counts["expired by the periodic task"] += release_expired_holds(now=now)
            continue
        if kind == "credit":
            try:
                add_credit(actor=SYSTEM, callerid=data["callerid"], amount=data["amount"])
                counts["recharges" if data["amount"] > 0 else "negative adjustments"] += 1
            except DomainError:
                counts["adjustments refused (held or too little credit)"] += 1
            callerid = data["callerid"]
        elif kind == "start":
            call_id = f"day-{extension.number}-{data['n']}"
            rate = Decimal(rng.choice(["0.0100", "0.0350", "0.0800", "0.1500", "0.3000"]))
            fee = Decimal(rng.choice(["0", "0", "0.0500"]))
            outcome = start_call(
                token=token,
                start=CallStart(
                    call_id=call_id,
                    extension=extension.number,
                    callerid_id=data["callerid"],
                    destination="+4031000000",
                    rate_per_minute=rate,
                    connection_fee=fee,
                ),
                now=now,
            )
            callerid = data["callerid"]
            if outcome.decision != "allow":
                reasons[outcome.reason] += 1
            else:
                counts["allowed"] += 1
                in_progress += 1
                peak_in_progress = max(peak_in_progress, in_progress)
                wanted = int(rng.expovariate(1 / 240)) + 5
                seconds = min(wanted, outcome.max_duration_seconds)
                if wanted > outcome.max_duration_seconds:
                    counts["cut at their time limit"] += 1
                end = now + timedelta(seconds=seconds)
                deadline = expires_at(now, outcome.max_duration_seconds)
                fate = rng.random()
                if fate < 0.05:
                    counts["never reported"] += 1
                    in_progress -= 1
                else:
                    if fate < 0.10:
                        report_at = end + timedelta(seconds=rng.uniform(1, 280))
                    elif fate < 0.13:
                        report_at = deadline + timedelta(seconds=rng.uniform(1, 3_600))
                    else:
                        report_at = end + timedelta(seconds=rng.uniform(0, 2))
                    push(
                        report_at,
                        "report",
                        {
                            "call_id": call_id,
                            "callerid": callerid,
                            "started": now,
                            "seconds": seconds,
                            "cost": (
                                None
                                if rng.random() < 1 / 3
                                else (fee + rate * seconds / 60).quantize(FOUR)
                            ),
                            "on_time": report_at < deadline,
                        },
                    )
        else:  # report
            in_progress -= 1
            outcome = report_call(
                token=token,
                report=CallReport(
                    call_id=data["call_id"],
                    extension=extension.number,
                    callerid_id=data["callerid"],
                    caller_id="",
                    destination="+4031000000",
                    started_at=data["started"],
                    duration_seconds=data["seconds"],
                    cost=data["cost"],
                ),
                actor=actor,
                now=now,
            )
            callerid = data["callerid"]
            counts["reported before expiry" if data["on_time"] else "reported after expiry"] += 1
            reported[data["call_id"]] = data
            if data["on_time"] and outcome.shortfall != 0:
                within_limit_shortfall.append(f"{data['call_id']}: shortfall {outcome.shortfall}")
        ok, held, balance = holds_within_balance(callerid)
        counts["invariant checks"] += 1
        if not ok:
            violations.append(f"{now:%H:%M:%S} CallerID #{callerid}: holds {held} > {balance}")
    elapsed = time.perf_counter() - started_clock
    counts["expired by the periodic task"] += release_expired_holds(now=day + timedelta(days=2))

    calls = Call.objects.filter(extension=extension)
    total = {
        "cost": sum(calls.values_list("cost", flat=True), Decimal(0)),
        "charged": sum(calls.values_list("charged", flat=True), Decimal(0)),
        "shortfall": sum(calls.values_list("shortfall", flat=True), Decimal(0)),
    }
    late_shortfall = sum(
        (c.shortfall for c in calls if not reported.get(c.call_id, {}).get("on_time", True)),
        Decimal(0),
    )
    out = StringIO()
    try:
        call_command("check_ledger", stdout=out)
        ledger_ok = True
    except CommandError:
        ledger_ok = False
    revoke_token(actor=SYSTEM, token=token)

    print(
        f"database {name}; extension {extension.number}: {len(callerids)} CallerIDs, "
        f"{args.calls:,} calls over one simulated day (seed {args.seed}); replayed in "
        f"{elapsed:.1f} s"
    )
    rows = [(label, f"{value:,}") for label, value in sorted(counts.items())]
    rows += [(f"denied: {reason}", f"{value:,}") for reason, value in sorted(reasons.items())]
    rows += [("peak calls in progress", f"{peak_in_progress:,}")]
    rows += [(f"total {key}", f"{value:.4f}") for key, value in total.items()]
    rows += [("shortfall of reports after expiry", f"{late_shortfall:.4f}")]
    print_table("The day", rows, ("figure", "value"))
    print("\nChecks")
    print(
        f"  [{verdict(not violations)}] no balance ever below its open holds "
        f"({counts['invariant checks']:,} checks, {len(violations)} failures)"
    )
    for line in violations[:10]:
        print(f"      {line}")
    print(
        f"  [{verdict(not within_limit_shortfall)}] shortfall 0 for every call within its time "
        f"limit reported before its hold expired ({len(within_limit_shortfall)} exceptions)"
    )
    for line in within_limit_shortfall[:10]:
        print(f"      {line}")
    print(f"  [{verdict(ledger_ok)}] check_ledger: {out.getvalue().strip().splitlines()[-1]}")
    if violations or within_limit_shortfall or not ledger_ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
