"""List page benchmark (issue 12): the Authorized CallerIDs page of the 100,000-CallerID
extension (callerids:list), next to a minimal Django view in the same process running the
same 50-row query and rendering a plain template (bench/bench_urls.py: baseline_list).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/list_page.py
    ... bench/list_page.py --requests 100        # requests per variant (default 40)
    ... bench/list_page.py --profile             # cProfile of the page, printed

Both views are requested through django.test.Client as the bench admin (same middleware:
sessions, auth, messages, axes...), alternately, after a warm-up; server time is the
in-process time of client.get(). Every SQL statement is timed with
connection.execute_wrapper. Goals (default variant): server time within 2x of the
baseline; the page's SQL time within 3x of the bare 50-row query (the baseline's row query
timed alone). Other variants (a deep page, another sort, a search) are reported too.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    BIG_EXTENSION,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)

GOAL_SERVER = 2.0
GOAL_SQL = 3.0
VARIANTS = {
    "default (newest first, page 1)": {},
    "page 1000 (OFFSET 49,950)": {"page": "1000"},
    "sort by number": {"sort": "number"},
    "sort by -available": {"sort": "-available"},
    "search q=00123": {"q": "00123"},
}


class QueryTimer:
    """connection.execute_wrapper: the SQL and time of every statement."""

    def __init__(self):
        self.queries: list[tuple[str, tuple, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - started))


def timed_get(client, url, params):
    from django.db import connection

    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, timer.queries, response


def bare_query_time(extension, params) -> float:
    """The baseline's 50-row query alone (compiled once, run and fetched)."""
    from django.db import connection

    from bench.bench_urls import PER_PAGE
    from callerids.filters import DEFAULT_SORT, SORTS
    from callerids.models import AuthorizedCallerID, CallerIDStatus

    rows = AuthorizedCallerID.objects.filter(extension=extension).exclude(
        status=CallerIDStatus.REMOVED
    )
    if params.get("q"):
        rows = rows.filter(number__contains=params["q"])
    page = int(params.get("page") or 1)
    rows = rows.order_by(*SORTS[params.get("sort") or DEFAULT_SORT])
    sql, sql_params = rows[(page - 1) * PER_PAGE : page * PER_PAGE].query.sql_with_params()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, sql_params)
        cursor.fetchall()
        return time.perf_counter() - started


def median(values) -> float:
    return statistics.median(values) if values else 0.0


def measure(client, extension, params, requests: int) -> dict:
    from django.urls import reverse

    page_url = reverse("callerids:list", args=[extension.pk])
    base_url = reverse("bench_baseline_list", args=[extension.pk])
    for _ in range(3):  # warm-up: templates compiled, caches and plans warm
        timed_get(client, page_url, params)
        timed_get(client, base_url, params)
        bare_query_time(extension, params)
    page, base, bare, page_sql, base_sql, per_query = [], [], [], [], [], {}
    rows_on_page = None
    for _ in range(requests):
        elapsed, queries, response = timed_get(client, page_url, params)
        page.append(elapsed)
        page_sql.append(sum(t for _, _, t in queries))
        for index, (sql, sql_params, t) in enumerate(queries):
            per_query.setdefault(index, (sql, sql_params, []))[2].append(t)
        if rows_on_page is None:
            rows_on_page = response.content.count(b"data-callerid=")
        elapsed, queries, _ = timed_get(client, base_url, params)
        base.append(elapsed)
        base_sql.append(sum(t for _, _, t in queries))
        bare.append(bare_query_time(extension, params))
    return {
        "page": median(page),
        "page_p90": statistics.quantiles(page, n=10)[-1] if len(page) > 1 else page[0],
        "base": median(base),
        "page_sql": median(page_sql),
        "base_sql": median(base_sql),
        "bare": median(bare),
        "queries": [(sql, p, median(times)) for sql, p, times in per_query.values()],
        "rows": rows_on_page,
    }


def profile_page(client, extension, params, requests: int) -> str:
    from django.urls import reverse

    url = reverse("callerids:list", args=[extension.pk])
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url, params)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="per variant and view")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the page")
    args = parser.parse_args()
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID

    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    count = AuthorizedCallerID.objects.filter(extension=extension).count()
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    print(
        f"database {name}: extension {BIG_EXTENSION} holds {count:,} CallerIDs; "
        f"{args.requests} requests per view and variant, medians"
    )
    results = {
        label: measure(client, extension, params, args.requests)
        for label, params in VARIANTS.items()
    }
    rows = []
    for label, r in results.items():
        rows.append(
            (
                label,
                r["rows"],
                f"{r['page'] * 1000:.1f}",
                f"{r['page_p90'] * 1000:.1f}",
                f"{r['base'] * 1000:.1f}",
                f"{r['page'] / r['base']:.2f}x",
                len(r["queries"]),
                f"{r['page_sql'] * 1000:.1f}",
                f"{r['base_sql'] * 1000:.1f}",
                f"{r['bare'] * 1000:.2f}",
                f"{r['page_sql'] / r['bare']:.2f}x",
            )
        )
    print_table(
        "Authorized CallerIDs page vs minimal view (ms, medians)",
        rows,
        (
            "variant",
            "rows",
            "page",
            "page p90",
            "baseline",
            "page/base",
            "queries",
            "page SQL",
            "base SQL",
            "bare query",
            "SQL/bare",
        ),
    )
    default = results[next(iter(VARIANTS))]
    server_ratio = default["page"] / default["base"]
    sql_ratio = default["page_sql"] / default["bare"]
    print("\nGoals (default variant)")
    print(
        f"  [{verdict(server_ratio <= GOAL_SERVER)}] server time {default['page'] * 1000:.1f} ms"
        f" = {server_ratio:.2f}x the minimal view's {default['base'] * 1000:.1f} ms "
        f"(goal <= {GOAL_SERVER:.0f}x)"
    )
    print(
        f"  [{verdict(sql_ratio <= GOAL_SQL)}] page SQL {default['page_sql'] * 1000:.2f} ms = "
        f"{sql_ratio:.2f}x the bare 50-row query's {default['bare'] * 1000:.2f} ms "
        f"(goal <= {GOAL_SQL:.0f}x)"
    )
    for label, r in results.items():
        print(f"\nQueries of the page, {label} (median ms each)")
        for sql, _params, t in r["queries"]:
            print(f"  {t * 1000:7.2f}  {sql[:160]}")
    for label, r in results.items():
        sql, params, t = max(r["queries"], key=lambda q: q[2])
        print(f"\nEXPLAIN ANALYZE of the slowest query, {label} ({t * 1000:.2f} ms)")
        print(explain(sql, params))
    if args.profile or server_ratio > GOAL_SERVER:
        print(f"\ncProfile of the page, default variant, {args.requests} requests")
        print(profile_page(client, extension, {}, args.requests))


if __name__ == "__main__":
    main()
