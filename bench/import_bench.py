"""Benchmark of the CallerID import (SPEC §5.2): Check and Confirm of a generated file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/import_bench.py
    .venv/bin/python bench/import_bench.py --lines 20000 --format xlsx
    ... bench/import_bench.py --format xlsx --repeats 5 --openpyxl

Runs against DATABASE_URL (SQLite file by default), migrates it, creates its own reseller,
organization, extension and admin user, raises the license to fit, prints the times, then
removes what it created and puts the license counter back (--keep to leave it). Use a
scratch database: the goal is ≤ 10 s for each step with 100,000 lines on PostgreSQL, and
≤ 5 s for the check of an XLSX file.

The check runs --repeats times (each a new job, as a user checking the file again; with
--openpyxl, openpyxl's reading alone before each, interleaved): wall and CPU time of each,
their medians [min-max], the load average next to each run, and where the time goes (the
check's phases, timed by wrapping its functions). Then the last job is confirmed once.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
os.environ.setdefault("DEBUG", "false")  # no query log kept in memory
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("PIN_PEPPER", "bench-only-pepper-never-for-production")


def make_file(lines: int, file_format: str, *, national: bool = False) -> bytes:
    """Romanian mobile numbers, written "+40 7…" (international) or "07…" (national)."""
    rows = [["callback number", "pin", "order number", "initial credit"]]
    for n in range(lines):
        pin = f"{n % 10_000:04d}" if n % 2 else ""
        credit = "u" if n % 10 == 0 else f"{n % 500}.{n % 100:02d}"
        subscriber = f"7{n // 1_000_000 % 10}{n % 1_000_000:06d}0"
        number = f"0{subscriber}" if national else f"+40 {subscriber}"
        rows.append([number, pin, f"B-{n}", credit])
    if file_format == "csv":
        return "".join(",".join(row) + "\r\n" for row in rows).encode()
    from openpyxl import Workbook

    # Normal mode writes <dimension> like Excel and LibreOffice do (write-only mode does
    # not, and openpyxl then reads the whole sheet once more just to size it).
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def time_openpyxl(content: bytes) -> float:
    """Seconds openpyxl read-only (with lxml), the reader the import used before calamine,
    takes to read the sheet's rows (reading alone: no checks, no rules)."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    for _ in workbook.worksheets[0].iter_rows(max_col=16, values_only=True):
        pass
    workbook.close()
    return time.perf_counter() - started


def _spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.2f} [{min(samples):.2f}-{max(samples):.2f}]"


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


class Phases:
    """Wall and CPU time spent in the named functions during a check (wrapped in place):
    where the check's time goes. Nested phases are counted in their parent too."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self._patched: list[tuple[object, str, object]] = []

    def wrap(self, module, name: str, label: str) -> None:
        real = getattr(module, name)

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                total = self.totals.setdefault(label, [0.0, 0.0])
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - cpu

        setattr(module, name, timed)
        self._patched.append((module, name, real))

    def take(self) -> dict[str, list[float]]:
        totals, self.totals = self.totals, {}
        return totals

    def undo(self) -> None:
        for module, name, real in reversed(self._patched):
            setattr(module, name, real)


def check_phases() -> Phases:
    from callerids.importing import checking, reading, services

    phases = Phases()
    phases.wrap(services, "start_check", "keep the upload (zlib, INSERT)")
    phases.wrap(services, "read_file", "read the file (zip checks, calamine, lines)")
    phases.wrap(reading, "_check_xlsx_zip", "  of which the zip checks (size, DTD, area)")
    phases.wrap(checking, "evaluate", "line rules (numbers, PINs, credits)")
    phases.wrap(checking, "find_existing", "already on the extension (SELECT)")
    phases.wrap(checking, "build_report", "report")
    phases.wrap(checking, "pack_rows", "pack the rows (JSON, zlib)")
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--keep", action="store_true", help="keep the imported CallerIDs")
    parser.add_argument("--repeats", type=int, default=3, help="checks, interleaved")
    parser.add_argument(
        "--openpyxl", action="store_true", help="XLSX: also read with openpyxl each repeat"
    )
    parser.add_argument(
        "--national",
        action="store_true",
        help='numbers in national form ("0721…", default country RO: libphonenumber parses '
        'and validates each) instead of "+40 721…" (which skip the parse when they can)',
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from callback.models import CallbackExtension
    from callerids.importing.services import check_import, confirm_import
    from callerids.models import (
        AuthorizedCallerID,
        CreditTotals,
        ImportJob,
        ImportProgress,
        License,
    )
    from callerids.selectors import get_license
    from credit.models import LedgerEntry
    from tenancy.audit import Actor
    from tenancy.models import (
        AuditEvent,
        ChargingPreferences,
        Organization,
        Reseller,
        Role,
        UserProfile,
    )
    from tenancy.preferences import forget_cached_preferences, get_preferences

    settings.IMPORT_MAX_LINES = max(settings.IMPORT_MAX_LINES, args.lines)
    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    reseller = Reseller.objects.create(name=f"Bench {tag}", may_grant_unlimited=True)
    organization = Organization.objects.create(reseller=reseller, name=f"Bench {tag}")
    extension = CallbackExtension.objects.create(
        organization=organization, number=f"9{int(tag, 16) % 10**9:09d}"
    )
    user = get_user_model().objects.create_user(username=f"bench-{tag}")
    UserProfile.objects.create(user=user, role=Role.ADMIN)
    license = get_license()
    old_max = license.max_active_callerids
    License.objects.filter(pk=1).update(
        max_active_callerids=license.active_callerids + args.lines + 1
    )

    old_country = get_preferences().default_country
    if args.national:
        ChargingPreferences.objects.filter(pk=1).update(default_country="RO")
        forget_cached_preferences()
    content = make_file(args.lines, args.format, national=args.national)
    vendor = connection.vendor
    print(f"{args.lines:,} lines, {args.format.upper()} {len(content) / 1e6:.1f} MB, on {vendor}")
    print(f"load average before: {_load()}")
    actor = Actor(user=user)
    phases = check_phases()
    runs: list[dict] = []
    jobs = []
    for repeat in range(args.repeats):
        run: dict = {"load": os.getloadavg()[0]}
        if args.format == "xlsx" and args.openpyxl:
            run["openpyxl read-only (lxml), reading alone"] = time_openpyxl(content)
        started, cpu = time.perf_counter(), time.process_time()
        job = check_import(
            actor=actor,
            extension=extension,
            content=content,
            file_name=f"bench.{args.format}",
            separator=",",
        )
        run["check"] = (time.perf_counter() - started, time.process_time() - cpu)
        run["phases"] = phases.take()
        runs.append(run)
        jobs.append(job)
        report = job.report
        print(
            f"  check {repeat + 1}: {run['check'][0]:6.2f} s wall, {run['check'][1]:.2f} s CPU "
            f"({report['count']:,} good, {report['errors_count']} bad; "
            f"load average {_load()})"
        )
        if not report["ok"]:
            print(report["errors"][:5], report["room_error"])
            sys.exit(1)
    phases.undo()
    walls = [run["check"][0] for run in runs]
    cpus = [run["check"][1] for run in runs]
    print(f"\nmedian [min-max] of {args.repeats} checks; load average (1 min) per run: "
          + ", ".join(f"{run['load']:.1f}" for run in runs))  # fmt: skip
    print(f"  {'check, whole':44s} wall {_spread(walls)} s   CPU {_spread(cpus)} s")
    for label in runs[0]["phases"]:
        wall = [run["phases"].get(label, [0.0, 0.0])[0] for run in runs]
        cpu = [run["phases"].get(label, [0.0, 0.0])[1] for run in runs]
        print(f"  {label:44s} wall {_spread(wall)} s   CPU {_spread(cpu)} s")
    rest = [
        run["check"][0] - sum(v[0] for k, v in run["phases"].items() if not k.startswith(" "))
        for run in runs
    ]
    print(f"  {'the rest (progress rows, job UPDATE)':44s} wall {_spread(rest)} s")
    for label in runs[0]:
        if label.startswith("openpyxl"):
            print(f"  {label:44s} wall {_spread([run[label] for run in runs])} s")
    job = jobs[-1]
    started, cpu = time.perf_counter(), time.process_time()
    outcome = confirm_import(actor=actor, job=job)
    imported, imported_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"import: {imported:6.2f} s  (Python CPU {imported_cpu:.2f} s; "
        f"{outcome.count:,} CallerIDs and ledger rows)"
    )

    if not args.keep:
        ids = AuthorizedCallerID.objects.filter(extension=extension)
        LedgerEntry.objects.filter(callerid__in=ids).delete()
        ids.delete()
        AuditEvent.objects.filter(actor=user).delete()
        ImportProgress.objects.filter(token__in=[j.token for j in jobs]).delete()
        ImportJob.objects.filter(pk__in=[j.pk for j in jobs]).delete()
        extension.delete()
        organization.delete()
        UserProfile.objects.filter(user=user).delete()
        user.delete()
        CreditTotals.objects.filter(reseller=reseller).delete()
        reseller.delete()
        License.objects.filter(pk=1).update(
            max_active_callerids=old_max, active_callerids=license.active_callerids
        )
    if args.national:
        ChargingPreferences.objects.filter(pk=1).update(default_country=old_country)
    checked = statistics.median(walls)
    if args.format == "xlsx":
        met = "MET" if checked <= 5 else "NOT MET"
        print(
            f"[{met}] XLSX check, median {checked:.2f} s wall ({statistics.median(cpus):.2f} s "
            f"CPU) for {args.lines:,} lines{' in national form' if args.national else ''} "
            f"(goal <= 5 s); load average {_load()}"
        )
    sys.exit(0 if checked <= 10 and imported <= 10 else 2)


if __name__ == "__main__":
    main()
