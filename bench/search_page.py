"""Search by number on a large extension (issue 21): the Authorized CallerIDs page with a
search next to the same page without one, requests interleaved, in-process through
django.test.Client as bench-admin (all middleware, the real view).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench1m \
        .venv/bin/python bench/search_page.py
    ... bench/search_page.py --requests 40

Seed an extension of a million CallerIDs first (a separate database):
    bench/seed.py --big 1000000 --calls 100000 --extensions 1

Each round requests the page without a search, then each search, then the same searches
with the trigram index switched off for the session (`SET enable_bitmapscan = off`: what
the search cost before migration callerids 0004), then a CSV export of the extension with
a search. Medians [min-max]. Goal: every search page <= 3x the page without a search.
The machine is shared: compare the ratios, measured side by side.
"""

from __future__ import annotations

import argparse
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

GOAL = 3.0
# A rare long part, a 5-digit part in the middle, a short common one.
SEARCHES = ["0801234", "00123", "999"]


def spread(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.1f} "
            f"[{min(values) * 1000:.1f}-{max(values) * 1000:.1f}]")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="rounds")
    parser.add_argument("--no-index-rounds", type=int, default=5,
                        help="rounds of the searches without the index (slow)")  # fmt: skip
    args = parser.parse_args()
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID

    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    count = AuthorizedCallerID.objects.filter(extension=extension).count()
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    page_url = reverse("callerids:list", args=[extension.pk])
    export_url = reverse("exports:download", args=["callerids", "csv"])
    print(f"database {name}: extension {BIG_EXTENSION} holds {count:,} CallerIDs; "
          f"{args.requests} interleaved rounds; 2 shared CPUs (noisy: compare ratios)")  # fmt: skip

    def get(url, params, stream=False):
        started = time.perf_counter()
        response = client.get(url, params)
        assert response.status_code == 200, (url, params, response.status_code)
        rows = None
        if stream:
            rows = b"".join(response.streaming_content).count(b"\n") - 1
        else:
            rows = response.content.count(b"data-callerid=")
        return time.perf_counter() - started, rows

    def set_index(on: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET enable_bitmapscan = {'on' if on else 'off'}")

    labels = ["page, no search"] + [f"page, q={q}" for q in SEARCHES]
    labels += [f"page, q={q}, index off" for q in SEARCHES]
    labels += [f"CSV export, q={q}" for q in SEARCHES]
    times: dict[str, list[float]] = {label: [] for label in labels}
    rows: dict[str, int] = {}
    for round_number in range(args.requests + 2):  # 2 warm-up rounds, not counted
        warm = round_number < 2
        sample = {}
        sample["page, no search"] = get(page_url, {})
        for q in SEARCHES:
            sample[f"page, q={q}"] = get(page_url, {"q": q})
            sample[f"CSV export, q={q}"] = get(
                export_url, {"extension": extension.pk, "q": q}, stream=True
            )
        if round_number < args.no_index_rounds + 2:
            set_index(False)
            try:
                for q in SEARCHES:
                    sample[f"page, q={q}, index off"] = get(page_url, {"q": q})
            finally:
                set_index(True)
        if not warm:
            for label, (elapsed, found) in sample.items():
                times[label].append(elapsed)
                rows[label] = found
    base = statistics.median(times["page, no search"])
    table = []
    for label in labels:
        if not times[label]:
            continue
        table.append((label, rows.get(label, ""), spread(times[label]),
                      f"{statistics.median(times[label]) / base:.2f}x"))  # fmt: skip
    print_table("Milliseconds, median [min-max]", table,
                ("request", "rows", "ms", "/ no search"))  # fmt: skip
    with connection.cursor() as cursor:
        from callerids.filters import CallerIDFilter

        queryset = CallerIDFilter(
            {"q": SEARCHES[1]}, queryset=AuthorizedCallerID.objects.filter(extension=extension)
        ).qs[:50]
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print(f"\nEXPLAIN ANALYZE of the search's rows, q={SEARCHES[1]}")
        for (line,) in cursor.fetchall():
            print("  " + line)
    print("\nGoals")
    for q in SEARCHES:
        r = statistics.median(times[f"page, q={q}"]) / base
        per_round = [s / b for s, b in zip(times[f"page, q={q}"], times["page, no search"],
                                           strict=True)]  # fmt: skip
        print(
            f"  [{verdict(r <= GOAL)}] search q={q}: {r:.2f}x the page without a search "
            f"[{min(per_round):.2f}-{max(per_round):.2f} per round] (goal <= {GOAL:.0f}x)"
        )


if __name__ == "__main__":
    main()
