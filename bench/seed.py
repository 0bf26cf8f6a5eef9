"""Seed a benchmark database: 1,000,000 authorized CallerIDs (100,000 on one extension),
each with its `initial` ledger row, and 1,000,000 metered calls, each with its `call`
ledger row; License and Reseller counters equal to the enabled CallerIDs, and the panel
home's counters (credit totals, call days) rebuilt from the loaded rows.

The CallerIDs: 95% enabled, 5% disabled (some locked after wrong PINs), none removed (so
an export of the default search covers all of them); 10% Unlimited, a third with a PIN,
limited credits from 0 to 499.8750; CallerID #1 (+40800000000 on 8000*001) holds
1,000,000.0000 for the contended-calls benchmark. Calls go to random CallerIDs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/seed.py
    ... bench/seed.py --reset                  # wipe the CallerIDs, calls, ledger; seed again
    ... bench/seed.py --callerids 200000 --big 20000 --calls 200000   # a smaller run
    ... bench/seed.py --no-check               # skip the timed `manage.py check_ledger`

Idempotent: when the database already holds exactly what is asked, it changes nothing.
Otherwise (or with --reset) it TRUNCATEs the CallerID, ledger and call tables (the whole
tables: use a dedicated database; the script refuses one without "bench" in its name) and
loads them with COPY (psycopg2 copy_expert) from generated rows. Balances are computed in
Python integers of 1/10,000 (exact), the same way the services do, so check_ledger is clean.
Foreign-key triggers are skipped during the load (session_replication_role = replica, the
data being consistent by construction); the plain indexes are dropped before the load and
created again after it (constraints and their indexes stay); all in one transaction.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    BIG_EXTENSION,
    PYTHON,
    RESELLER_PREFIX,
    ROOT,
    require_bench_database,
    setup_django,
)

RESELLERS = 4
ORGANIZATIONS_PER_RESELLER = 3
HOT_CREDIT = 1_000_000 * 10_000  # 1,000,000.0000: the contended-calls benchmark spends it
ROWS_PER_CHUNK = 5000
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def money(units: int) -> str:
    """1/10,000 units as a 4-decimal string."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    return f"{sign}{units // 10000}.{units % 10000:04d}"


class Stream:
    """A file-like object over a generator of byte chunks, for copy_expert."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")

    readline = read


def chunked(lines):
    """Join generated text lines into byte chunks of ROWS_PER_CHUNK lines."""
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) == ROWS_PER_CHUNK:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


class Plan:
    """Every generated value, computed once: which extension and status each CallerID has,
    its initial credit, and each call's CallerID, cost, charge and balance after."""

    def __init__(
        self,
        *,
        callerids: int,
        big: int,
        calls: int,
        extensions: list[int],
        big_extension: int,
        reseller_of_extension: dict[int, int],
    ):
        self.callerids = callerids
        self.calls = calls
        self.reseller_of_extension = reseller_of_extension
        stride = max(1, callerids // big)
        others = extensions
        self.extension = array("q", bytes(8 * callerids))
        self.initial = array("q", bytes(8 * callerids))
        self.available = array("q", bytes(8 * callerids))
        self.status = bytearray(callerids)  # 0 enabled, 1 disabled
        self.unlimited = bytearray(callerids)
        other = 0
        for i in range(callerids):
            if i % stride == 0 and i // stride < big:
                self.extension[i] = big_extension
            else:
                self.extension[i] = others[other % len(others)]
                other += 1
            if i == 0:
                self.initial[i] = HOT_CREDIT
            else:
                self.status[i] = 1 if i % 20 == 7 else 0
                self.unlimited[i] = 1 if i % 10 == 3 else 0
                self.initial[i] = (i % 500) * 10000 + (i % 7) * 1250
        self.available[:] = self.initial
        self.enabled_by_reseller: dict[int, int] = {}
        for i in range(callerids):
            if self.status[i] == 0:
                reseller = reseller_of_extension[self.extension[i]]
                self.enabled_by_reseller[reseller] = self.enabled_by_reseller.get(reseller, 0) + 1

        rng = random.Random(12)
        self.call_callerid = array("q", bytes(8 * calls))
        self.call_cost = array("q", bytes(8 * calls))
        self.call_charged = array("q", bytes(8 * calls))
        self.call_balance = array("q", bytes(8 * calls))  # -1 = null (Unlimited)
        for j in range(calls):
            i = rng.randrange(1, callerids) if callerids > 1 else 0
            duration = 30 + j % 600
            cost = duration * 17
            if self.unlimited[i]:
                charged, balance = cost, -1
            else:
                charged = min(cost, self.available[i])
                balance = self.available[i] - charged
                self.available[i] = balance
            self.call_callerid[j] = i
            self.call_cost[j] = cost
            self.call_charged[j] = charged
            self.call_balance[j] = balance
        self.total_enabled = sum(self.enabled_by_reseller.values())


class Clock:
    """Timestamps as COPY text, `count` of them evenly spread over `days` days before NOW;
    formatted from a per-day cache (datetime.isoformat per row costs more than the COPY)."""

    def __init__(self, *, days: int, count: int):
        self.start = int((NOW - timedelta(days=days)).timestamp())
        self.step = days * 86400 // max(count, 1)
        self._days: dict[int, str] = {}

    def text(self, index: int, plus_seconds: int = 0) -> str:
        moment = self.start + index * self.step + plus_seconds
        day, second = divmod(moment, 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        hour, rest = divmod(second, 3600)
        return f"{date} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}+00"


def callerid_lines(plan: Plan):
    clock = Clock(days=400, count=plan.callerids)
    for i in range(plan.callerids):
        status = ("enabled", "disabled")[plan.status[i]]
        reason = "locked" if plan.status[i] == 1 and i % 40 == 7 else ""
        has_pin = i % 3 == 1
        if plan.unlimited[i]:
            available = total = r"\N"
        else:
            available, total = money(plan.available[i]), money(plan.initial[i])
        yield (
            f"{i + 1}\t+408{i:08d}\t{'benchsalt' if has_pin else ''}\t"
            f"{'0' * 64 if has_pin else ''}\t0\t{status}\t{reason}\t"
            f"{'t' if plan.unlimited[i] else 'f'}\t{available}\t{total}\t"
            f"{clock.text(i)}\t\\N\t{plan.extension[i]}\n"
        )


def initial_ledger_lines(plan: Plan):
    clock = Clock(days=400, count=plan.callerids)
    for i in range(plan.callerids):
        amount = r"\N" if plan.unlimited[i] else money(plan.initial[i])
        reseller = plan.reseller_of_extension[plan.extension[i]]
        yield (
            f"{i + 1}\tinitial\t{amount}\t{amount}\t\tbench-seed\t{clock.text(i)}\t{i + 1}\t"
            f"{reseller}\n"
        )


def call_lines(plan: Plan):
    clock = Clock(days=60, count=plan.calls)
    for j in range(plan.calls):
        i = plan.call_callerid[j]
        cost, charged = plan.call_cost[j], plan.call_charged[j]
        duration = 30 + j % 600
        yield (
            f"{j + 1}\tbench-{j}\t+408{i:08d}\t+4031{j % 1_000_000:06d}\t"
            f"{clock.text(j)}\t{duration}\t{money(cost)}\t{money(charged)}\t"
            f"{money(cost - charged)}\tt\t{clock.text(j, duration)}\t{i + 1}\t"
            f"{plan.extension[i]}\n"
        )


def call_ledger_lines(plan: Plan):
    n = plan.callerids
    clock = Clock(days=60, count=plan.calls)
    for j in range(plan.calls):
        i = plan.call_callerid[j]
        balance = plan.call_balance[j]
        balance_text = r"\N" if balance < 0 else money(balance)
        reseller = plan.reseller_of_extension[plan.extension[i]]
        yield (
            f"{n + j + 1}\tcall\t{money(-plan.call_charged[j])}\t{balance_text}\t\ttoken:bench\t"
            f"{clock.text(j)}\t{j + 1}\t{i + 1}\t{reseller}\n"
        )


COPIES = (
    (
        "callerids.AuthorizedCallerID",
        "id, number, pin_salt, pin_hash, wrong_pin_count, status, status_reason, unlimited, "
        "available, total, created_at, removed_at, extension_id",
        callerid_lines,
    ),
    (
        "credit.LedgerEntry",
        "id, kind, amount, balance_after, order_number, actor_username, created_at, callerid_id, "
        "reseller_id",
        initial_ledger_lines,
    ),
    (
        "credit.Call",
        "id, call_id, caller_id, destination, started_at, duration_seconds, cost, charged, "
        "shortfall, metered, created_at, callerid_id, extension_id",
        call_lines,
    ),
    (
        "credit.LedgerEntry",
        "id, kind, amount, balance_after, order_number, actor_username, created_at, call_id, "
        "callerid_id, reseller_id",
        call_ledger_lines,
    ),
)
# The tables loaded, by model (the table names come from the models).
TABLE_MODELS = ("credit.LedgerEntry", "credit.Call", "callerids.AuthorizedCallerID")


def db_table(label: str) -> str:
    from django.apps import apps

    return apps.get_model(label)._meta.db_table


def tenancy(big_extensions: int):
    """The bench resellers, organizations, extensions and admin user (get_or_create)."""
    from django.contrib.auth import get_user_model

    from callback.models import CallbackExtension
    from tenancy.models import Organization, Reseller, Role, UserProfile
    from tenancy.preferences import get_preferences

    get_preferences()
    organizations = []
    for r in range(1, RESELLERS + 1):
        reseller, _ = Reseller.objects.get_or_create(
            name=f"{RESELLER_PREFIX} {r}", defaults={"may_grant_unlimited": r == 1}
        )
        for o in range(1, ORGANIZATIONS_PER_RESELLER + 1):
            organization, _ = Organization.objects.get_or_create(
                reseller=reseller, name=f"Bench organization {r}.{o}"
            )
            organizations.append(organization)
    big, _ = CallbackExtension.objects.get_or_create(
        number=BIG_EXTENSION, defaults={"organization": organizations[0], "name": "Bench big"}
    )
    others = []
    for k in range(1, big_extensions + 1):
        extension, _ = CallbackExtension.objects.get_or_create(
            number=f"8100*{k:03d}",
            defaults={"organization": organizations[k % len(organizations)], "name": "Bench"},
        )
        others.append(extension)
    user, created = get_user_model().objects.get_or_create(username=ADMIN_USERNAME)
    if created:
        user.set_password("bench-admin-password")
        user.save()
        UserProfile.objects.create(user=user, role=Role.ADMIN)
    reseller_of = {
        e.pk: e.organization.reseller_id
        for e in CallbackExtension.objects.select_related("organization").filter(
            pk__in=[big.pk, *[o.pk for o in others]]
        )
    }
    return big, others, reseller_of


def already_seeded(args) -> bool:
    """Whether the seeded rows are all there (rows the other benchmarks add since, such as
    api_load's calls, do not count)."""
    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID
    from credit.models import Call, LedgerEntry, LedgerKind

    big = CallbackExtension.objects.filter(number=BIG_EXTENSION).first()
    if big is None:
        return False
    return (
        AuthorizedCallerID.objects.count() == args.callerids
        and AuthorizedCallerID.objects.filter(extension=big).count() == args.big
        and Call.objects.filter(call_id__startswith="bench-").count() == args.calls
        and LedgerEntry.objects.filter(kind=LedgerKind.INITIAL).count() == args.callerids
    )


def load(plan: Plan, reseller_of: dict[int, int]) -> dict[str, float]:
    from django.db import connection, transaction

    from callerids.selectors import get_license
    from callerids.services import credit_totals
    from credit import call_days
    from tenancy.models import Reseller

    times = {}
    get_license()
    tables = [db_table(label) for label in TABLE_MODELS]
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        # Calls in progress (holds) point at calls: emptied with them.
        cursor.execute(
            f"TRUNCATE {', '.join(tables)}, {db_table('credit.CallHold')} RESTART IDENTITY"
        )
        times["truncate"] = time.perf_counter() - started
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Building an index once over sorted rows is several times faster than keeping
        # it up to date row by row: drop the plain indexes (not those of constraints),
        # load, and create them again from their exact definitions, in this transaction.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) AND "
            "NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        indexes = cursor.fetchall()
        for index_name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{index_name}"')
        raw = cursor.cursor  # the psycopg2 cursor under Django's wrapper
        for label, columns, lines in COPIES:
            table = db_table(label)
            started = time.perf_counter()
            raw.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN", Stream(chunked(lines(plan))), 1 << 20
            )
            times[f"COPY {table} ({lines.__name__})"] = time.perf_counter() - started
        started = time.perf_counter()
        for _index_name, definition in indexes:
            cursor.execute(definition)
        times[f"CREATE INDEX (x{len(indexes)})"] = time.perf_counter() - started
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        started = time.perf_counter()
        Reseller.objects.update(active_callerids=0)
        for reseller_id, count in plan.enabled_by_reseller.items():
            Reseller.objects.filter(pk=reseller_id).update(active_callerids=count)
        license = get_license()
        license.active_callerids = plan.total_enabled
        license.max_active_callerids = max(
            license.max_active_callerids, plan.total_enabled + 100_000
        )
        license.save()
        # The panel home's counters (credit totals, call days), from the loaded rows.
        credit_totals.rebuild()
        call_days.rebuild()
        times["counters"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    times["VACUUM ANALYZE"] = time.perf_counter() - started
    return times


def check_ledger() -> tuple[float, int, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "check_ledger"], capture_output=True, text=True, cwd=ROOT
    )
    elapsed = time.perf_counter() - started
    output = (completed.stdout + completed.stderr).strip().splitlines()
    return elapsed, completed.returncode, output[-1] if output else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callerids", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000, help="CallerIDs on " + BIG_EXTENSION)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--extensions", type=int, default=90, help="other extensions")
    parser.add_argument("--reset", action="store_true", help="wipe and seed again")
    parser.add_argument("--no-check", action="store_true", help="skip check_ledger")
    args = parser.parse_args()
    setup_django()
    name = require_bench_database()
    from django.core.management import call_command

    total_started = time.perf_counter()
    call_command("migrate", verbosity=0)
    big, others, reseller_of = tenancy(args.extensions)
    if not args.reset and already_seeded(args):
        print(f"{name}: already seeded ({args.callerids:,} CallerIDs, {args.calls:,} calls).")
    else:
        started = time.perf_counter()
        plan = Plan(
            callerids=args.callerids,
            big=args.big,
            calls=args.calls,
            extensions=[e.pk for e in others],
            big_extension=big.pk,
            reseller_of_extension=reseller_of,
        )
        plan_time = time.perf_counter() - started
        times = load(plan, reseller_of)
        total = time.perf_counter() - total_started
        rows = args.callerids * 2 + args.calls * 2
        print(
            f"Seeded {name}: {args.callerids:,} CallerIDs ({args.big:,} on {BIG_EXTENSION}), "
            f"{args.callerids:,} initial ledger rows, {args.calls:,} calls and their "
            f"{args.calls:,} ledger rows; {plan.total_enabled:,} enabled."
        )
        print(f"  plan (balances computed in Python)  {plan_time:7.1f} s")
        for step, seconds in times.items():
            print(f"  {step:<36s}{seconds:7.1f} s")
        print(
            f"  total                               {total:7.1f} s  "
            f"({rows / total:,.0f} rows/s over {rows:,} rows)"
        )
    if not args.no_check:
        elapsed, code, last = check_ledger()
        print(f"manage.py check_ledger: exit {code} in {elapsed:.1f} s: {last}")
        if code:
            sys.exit(code)


if __name__ == "__main__":
    main()
