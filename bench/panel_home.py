"""Panel home benchmark (issue 22, SPEC §14): the home page's server time for each role on
the seeded database (1,000,000 CallerIDs, 1,000,000 calls: bench/seed.py), against the goal
of 50 ms, next to a minimal Django view in the same process (bench/bench_urls.py:
baseline_list's 50-row page) as the yardstick of what any page costs here.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/seed.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/panel_home.py
    ... bench/panel_home.py --requests 100     # requests per role (default 40)
    ... bench/panel_home.py --explain          # EXPLAIN ANALYZE of each of the home's queries

Roles: the bench admin (whole server), a server-wide staff user, a reseller and a staff user
of "Bench reseller 1" (created here when missing). Requests go through django.test.Client
(all middleware), interleaved role after role, after a warm-up; server time is the
in-process time of client.get(); every SQL statement is timed with execute_wrapper.
Printed: median, p90 and spread (min-max) per role, SQL time and query count. The machine
may be shared with other work: compare the ratio to the baseline, not the absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    BIG_EXTENSION,
    RESELLER_PREFIX,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)
from bench.list_page import explain, timed_get  # noqa: E402

GOAL_MS = 50.0


def users():
    """(label, user) for each role; the reseller-bound ones on Bench reseller 1."""
    from django.contrib.auth import get_user_model

    from tenancy.models import Reseller, Role, UserProfile

    User = get_user_model()
    reseller = Reseller.objects.get(name=f"{RESELLER_PREFIX} 1")
    cast = [("admin (whole server)", User.objects.get(username=ADMIN_USERNAME))]
    for username, role, bound, label in (
        ("bench-staff-server", Role.STAFF, None, "staff (whole server)"),
        ("bench-reseller-1", Role.RESELLER, reseller, f"reseller ({reseller.name})"),
        ("bench-staff-1", Role.STAFF, reseller, f"staff ({reseller.name})"),
    ):
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            UserProfile.objects.create(user=user, role=role, reseller=bound)
        cast.append((label, user))
    return cast


def database_time(queries) -> float:
    """Milliseconds PostgreSQL spends executing the SELECTs (EXPLAIN ANALYZE, summed)."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for statement, params, _seconds in queries:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            total += plan["Execution Time"] + plan.get("Planning Time", 0.0)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="per role")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each query")
    args = parser.parse_args()
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.test import Client
    from django.urls import reverse

    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID
    from credit.models import Call

    callerids = AuthorizedCallerID.objects.count()
    calls = Call.objects.count()
    print(f"database {name}: {callerids:,} CallerIDs, {calls:,} calls")
    if callerids < 1_000_000 or calls < 1_000_000:
        print("  (fewer than the 1,000,000 of each that the goal names: run bench/seed.py first)")
    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    home = reverse("home")
    charts = {size: reverse("credit:home_cost_chart", args=[size]) for size in ("wide", "compact")}
    baseline = reverse("bench_baseline_list", args=[extension.pk])
    clients = []
    for label, user in users():
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        clients.append((label, client))
    for _ in range(3):  # warm-up: templates compiled, plans and caches warm
        for _label, client in clients:
            timed_get(client, home, {})
            timed_get(client, baseline, {})
    times = {label: [] for label, _ in clients}
    sql = {label: [] for label, _ in clients}
    counts, last_queries = {}, {}
    base = []
    chart_times = {size: [] for size in charts}
    for _ in range(args.requests):
        for label, client in clients:
            elapsed, queries, _response = timed_get(client, home, {})
            times[label].append(elapsed * 1000)
            sql[label].append(sum(t for _, _, t in queries) * 1000)
            counts[label] = len(queries)
            last_queries[label] = queries
        elapsed, _queries, _response = timed_get(clients[0][1], baseline, {})
        base.append(elapsed * 1000)
        for size, url in charts.items():
            elapsed, _queries, _response = timed_get(clients[2][1], url, {})
            chart_times[size].append(elapsed * 1000)
    base_median = statistics.median(base)
    rows = []
    worst = 0.0
    database = {label: database_time(queries) for label, queries in last_queries.items()}
    for label, values in times.items():
        median = statistics.median(values)
        worst = max(worst, median)
        p90 = statistics.quantiles(values, n=10)[-1]
        rows.append(
            (
                label,
                f"{median:.1f}",
                f"{p90:.1f}",
                f"{min(values):.1f}-{max(values):.1f}",
                f"{statistics.median(sql[label]):.1f}",
                counts[label],
                f"{database[label]:.2f}",
                f"{median / base_median:.2f}x",
            )
        )
    print_table(
        f"Panel home, server time per role ({args.requests} requests each, interleaved; ms)",
        rows,
        ("role", "median", "p90", "min-max", "SQL", "queries", "DB exec", "vs baseline"),
    )
    print(
        "\n  SQL: time in the database calls as the view saw them (round trips included);"
        "\n  DB exec: the same queries' execution time inside PostgreSQL (EXPLAIN ANALYZE,"
        "\n  summed), the part that grows with the rows if anything scans."
    )
    print(f"\n  baseline (50-row list view): median {base_median:.1f} ms")
    for size, values in chart_times.items():
        print(
            f"  chart image ({size}, fetched by the browser after the page, one of the two): "
            f"median {statistics.median(values):.1f} ms"
        )
    print(f"  goal: every role's median under {GOAL_MS:.0f} ms: {verdict(worst < GOAL_MS)}")
    if args.explain:
        for label, queries in last_queries.items():
            print(f"\n{label}: the home's queries")
            for statement, params, seconds in queries:
                print(f"  {seconds * 1000:6.2f} ms  {statement[:150]}")
                if statement.lstrip().upper().startswith("SELECT"):
                    print(explain(statement, params))


if __name__ == "__main__":
    main()
