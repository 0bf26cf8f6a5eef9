"""Benchmark of the CallerID import (SPEC §5.2): Check and Confirm of a generated file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/import_bench.py
    .venv/bin/python bench/import_bench.py --lines 20000 --format xlsx

Runs against DATABASE_URL (SQLite file by default), migrates it, creates its own reseller,
organization, extension and admin user, raises the license to fit, prints the times, then
removes what it created and puts the license counter back (--keep to leave it). Use a
scratch database: the goal is ≤ 10 s for each step with 100,000 lines on PostgreSQL.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
os.environ.setdefault("DEBUG", "false")  # no query log kept in memory
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("PIN_PEPPER", "bench-only-pepper-never-for-production")


def make_file(lines: int, file_format: str) -> bytes:
    rows = [["callback number", "pin", "order number", "initial credit"]]
    for n in range(lines):
        pin = f"{n % 10_000:04d}" if n % 2 else ""
        credit = "u" if n % 10 == 0 else f"{n % 500}.{n % 100:02d}"
        rows.append([f"+40 7{n // 1_000_000 % 10}{n % 1_000_000:06d}0"[:16], pin, f"B-{n}", credit])
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


def compare_readers(content: bytes, repeats: int = 3) -> None:
    """Reading alone, interleaved: the import's reader (our zip checks, then calamine)
    next to openpyxl read-only (with lxml), the reader it replaced."""
    import statistics

    from openpyxl import load_workbook

    from callerids.importing.reading import read_file

    def ours():
        return len(read_file(content=content, file_name="bench.xlsx").lines)

    def openpyxl_read_only():
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        rows = sum(1 for _ in workbook.worksheets[0].iter_rows(max_col=16, values_only=True))
        workbook.close()
        return rows - 1

    times = {"zip checks + calamine (the import)": [], "openpyxl read-only (lxml)": []}
    for _ in range(repeats):
        for samples, read in zip(times.values(), (ours, openpyxl_read_only), strict=True):
            started = time.perf_counter()
            read()
            samples.append(time.perf_counter() - started)
    for label, samples in times.items():
        print(
            f"read {label}: {statistics.median(samples):.2f} s "
            f"[{min(samples):.2f}-{max(samples):.2f}] over {repeats} interleaved runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--keep", action="store_true", help="keep the imported CallerIDs")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from callback.models import CallbackExtension
    from callerids.importing.services import check_import, confirm_import
    from callerids.models import AuthorizedCallerID, ImportJob, ImportProgress, License
    from callerids.selectors import get_license
    from credit.models import LedgerEntry
    from tenancy.audit import Actor
    from tenancy.models import AuditEvent, Organization, Reseller, Role, UserProfile

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

    content = make_file(args.lines, args.format)
    vendor = connection.vendor
    print(f"{args.lines:,} lines, {args.format.upper()} {len(content) / 1e6:.1f} MB, on {vendor}")
    if args.format == "xlsx":
        compare_readers(content)
    started, cpu = time.perf_counter(), time.process_time()
    job = check_import(
        actor=Actor(user=user),
        extension=extension,
        content=content,
        file_name=f"bench.{args.format}",
        separator=",",
    )
    checked, checked_cpu = time.perf_counter() - started, time.process_time() - cpu
    report = job.report
    print(
        f"check:  {checked:6.2f} s  (Python CPU {checked_cpu:.2f} s; "
        f"{report['count']:,} good, {len(report['errors'])} bad)"
    )
    if not report["ok"]:
        print(report["errors"][:5], report["room_error"])
        sys.exit(1)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = confirm_import(actor=Actor(user=user), job=job)
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
        ImportProgress.objects.filter(token=job.token).delete()
        ImportJob.objects.filter(pk=job.pk).delete()
        extension.delete()
        organization.delete()
        UserProfile.objects.filter(user=user).delete()
        user.delete()
        reseller.delete()
        License.objects.filter(pk=1).update(
            max_active_callerids=old_max, active_callerids=license.active_callerids
        )
    if args.format == "xlsx":
        met = "MET" if checked <= 5 else "NOT MET"
        print(f"[{met}] XLSX check {checked:.2f} s for {args.lines:,} lines (goal <= 5 s)")
    sys.exit(0 if checked <= 10 and imported <= 10 else 2)


if __name__ == "__main__":
    main()
