"""The audit log at a million events (issue 21): its first page, its last page, a page in
the middle reached by key, a date filter, requests interleaved, in-process through
django.test.Client as bench-admin (all middleware, the real view).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/audit_page.py
    ... bench/audit_page.py --events 1000000 --requests 30

Adds synthetic audit events (action `bench.event`, one a minute back from now) with one
INSERT ... SELECT generate_series until --events exist; run bench/seed.py first (for the
admin). Goal: the last page <= 2x the first page. Medians [min-max]; the machine is
shared, so compare the ratios.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    print_table,
    require_bench_database,
    setup_django,
    verdict,
)

GOAL = 2.0


def ensure_events(target: int) -> int:
    from django.db import connection

    from database.tables import table
    from tenancy.models import AuditEvent

    have = AuditEvent.objects.count()
    if have < target:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table(AuditEvent)} (created_at, actor_label, action, object_type,"
                " object_id, object_repr, address, before, after) "
                "SELECT now() - make_interval(mins => n), 'bench', 'bench.event', "
                "'callerids.authorizedcallerid', n::text, '+4080' || n::text, '192.0.2.1', "
                """'{"available": "1.0000"}'::jsonb, '{"available": "0.9900"}'::jsonb """
                "FROM generate_series(%s, %s) n",
                [have + 1, target],
            )
            cursor.execute(f"ANALYZE {table(AuditEvent)}")
        print(f"added {target - have:,} audit events in {time.perf_counter() - started:.1f} s")
    return AuditEvent.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    total = ensure_events(args.events)
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    url = reverse("tenancy:audit_list")
    first_html = client.get(url).content.decode()
    middle_date = (timezone.localdate() - timezone.timedelta(days=total // 2 // 1440)).isoformat()

    def href(html: str, label: str) -> str:
        match = re.search(r'<a class="page-link" href="([^"]*)"[^>]*>' + re.escape(label), html)
        return unescape(match.group(1))

    # A page in the middle: the Next link of a date-filtered page, kept without the filter.
    mid_html = client.get(url, {"date_to": middle_date}).content.decode()
    middle_cursor = re.search(r"after=([0-9_]+)", href(mid_html, "Next")).group(1)
    variants = {
        "first page": {},
        "last page (?last=1)": {"last": "1"},
        "next page after the first": dict(
            p.split("=") for p in href(first_html, "Next").lstrip("?").split("&")
        ),
        "a page in the middle (by key)": {"after": middle_cursor},
        f"date_from=date_to={middle_date}": {"date_from": middle_date, "date_to": middle_date},
        "search action=bench (icontains)": {"action": "bench"},
        "oldest first (sort=created_at)": {"sort": "created_at"},
    }
    print(f"database {name}: {total:,} audit events; {args.requests} interleaved rounds; "
          "2 shared CPUs (noisy: compare ratios)")  # fmt: skip
    times: dict[str, list[float]] = {label: [] for label in variants}
    rows: dict[str, int] = {}
    for round_number in range(args.requests + 2):
        for label, params in variants.items():
            started = time.perf_counter()
            response = client.get(url, params)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (label, response.status_code)
            if round_number >= 2:
                times[label].append(elapsed)
                rows[label] = response.content.count(b"<tr") - 1
    base = statistics.median(times["first page"])
    table = [
        (label, rows[label],
         f"{statistics.median(t) * 1000:.1f} [{min(t) * 1000:.1f}-{max(t) * 1000:.1f}]",
         f"{statistics.median(t) / base:.2f}x")
        for label, t in times.items()
    ]  # fmt: skip
    print_table("Milliseconds, median [min-max]", table, ("request", "rows", "ms", "/ first"))
    last = statistics.median(times["last page (?last=1)"]) / base
    per_round = [a / b for a, b in zip(times["last page (?last=1)"], times["first page"],
                                       strict=True)]  # fmt: skip
    print("\nGoals")
    print(
        f"  [{verdict(last <= GOAL)}] last page {last:.2f}x the first page "
        f"[{min(per_round):.2f}-{max(per_round):.2f} per round] (goal <= {GOAL:.0f}x)"
    )


if __name__ == "__main__":
    main()
