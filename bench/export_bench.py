"""Export benchmark: time to first byte, total time and peak memory of the CSV and XLSX
exports of N authorized CallerIDs, next to openpyxl's write-only mode writing the same rows.

    .venv/bin/python bench/export_bench.py [N [MODES]]   # N defaults to 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm .venv/bin/python bench/export_bench.py
    .venv/bin/python bench/export_bench.py 1000000 copy,csv,csv_general,xlsx

MODES (comma-separated, default all): csv (the CSV view: COPY on PostgreSQL), csv_general
(the CSV view with EXPORT_CSV_COPY off), xlsx, openpyxl, copy (PostgreSQL only: `COPY (the
exporter's own SELECT) TO STDOUT WITH CSV`, unformatted: the yardstick for CSV).

Runs against whatever DATABASE_URL points to (migrating it if needed). The rows live in a
dedicated extension, 9999*999 of "Bench reseller", created with bulk_create when missing.
Each export runs in its own process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_NUMBER = "9999*999"
MODES = ("copy", "csv", "csv_general", "xlsx", "openpyxl")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    os.environ.setdefault("DEBUG", "true")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log growing with the rows


def ensure_rows(count: int):
    """The bench extension with at least `count` CallerIDs, and an admin to export them."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID
    from tenancy.models import Organization, Reseller, Role, UserProfile

    call_command("migrate", verbosity=0)
    reseller, _ = Reseller.objects.get_or_create(name="Bench reseller")
    organization, _ = Organization.objects.get_or_create(
        reseller=reseller, name="Bench organization"
    )
    extension, _ = CallbackExtension.objects.get_or_create(
        number=EXTENSION_NUMBER, defaults={"organization": organization, "name": "Bench"}
    )
    user, created = get_user_model().objects.get_or_create(username="bench-admin")
    if created:
        user.set_unusable_password()
        user.save()
        UserProfile.objects.create(user=user, role=Role.ADMIN)
    have = AuthorizedCallerID.objects.filter(extension=extension).count()
    batch = []
    for i in range(have, count):
        unlimited = i % 10 == 0
        amount = None if unlimited else Decimal(i % 5000) + Decimal("0.1234")
        batch.append(
            AuthorizedCallerID(
                extension=extension,
                number=f"+4090{i:09d}",
                unlimited=unlimited,
                available=amount,
                total=None if unlimited else amount + Decimal(10),
                pin_hash="x" if i % 3 == 0 else "",
            )
        )
        if len(batch) == 5000:
            AuthorizedCallerID.objects.bulk_create(batch)
            batch = []
    if batch:
        AuthorizedCallerID.objects.bulk_create(batch)
    if have < count:
        print(f"created {count - have} CallerIDs in extension {EXTENSION_NUMBER}", flush=True)
    return extension, user


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(mode: str, count: int) -> dict:
    from django.test import RequestFactory

    from callerids.models import AuthorizedCallerID
    from exports.views import download

    extension, user = ensure_rows(0)
    rows_in_db = AuthorizedCallerID.objects.filter(extension=extension).count()
    baseline = rss_mb()
    request = RequestFactory().get("/", {"extension": extension.pk})
    request.user = user
    started = time.perf_counter()
    if mode == "openpyxl":
        size = write_with_openpyxl(request, user)
        first = time.perf_counter()  # nothing can be sent before the file is saved
    elif mode == "copy":
        first, size = plain_copy(request, user)
    else:
        if mode == "csv_general":
            from django.conf import settings

            settings.EXPORT_CSV_COPY = False
        response = download(request, "callerids", mode.split("_")[0])
        first = None
        size = 0
        for chunk in response.streaming_content:
            if first is None and chunk:
                first = time.perf_counter()
            size += len(chunk)
    finished = time.perf_counter()
    return {
        "mode": mode,
        "rows": rows_in_db,
        "ttfb_s": round(first - started, 4),
        "total_s": round(finished - started, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(baseline, 1),
        "bytes": size,
    }


def plain_copy(request, user) -> tuple[float, int]:
    """COPY of the exporter's own SELECT (scope, search, order), unformatted, counted."""
    import psycopg2
    from django.db import connection

    from callerids.exports import CallerIDsExporter

    exporter = CallerIDsExporter(user=user, params=request.GET)
    sql, params = exporter.values().query.sql_with_params()
    raw = psycopg2.connect(**connection.get_connection_params())
    first = None
    size = 0

    class Sink:
        def write(self, data) -> None:
            nonlocal first, size
            if first is None:
                first = time.perf_counter()
            size += len(data)

    with raw.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", Sink())
    raw.close()
    return first, size


def write_with_openpyxl(request, user) -> int:
    """The same rows, the same cells (to_cell), written by openpyxl's write-only mode."""
    from openpyxl import Workbook

    from callerids.exports import CallerIDsExporter
    from exports.cells import row_converter

    exporter = CallerIDsExporter(user=user, params=request.GET)
    columns = exporter.columns()
    convert = row_converter(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(exporter.sheet_title())
    sheet.freeze_panes = "A2"
    sheet.append([column.header for column in columns])
    for row in exporter.rows():
        sheet.append([cell.value for cell in convert(row)])
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as output:
        workbook.save(output.name)
        return os.path.getsize(output.name)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--run":
        setup_django()
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]))))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    modes = sys.argv[2].split(",") if len(sys.argv) > 2 else list(MODES)
    setup_django()
    from django.conf import settings

    ensure_rows(count)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; CallerIDs in {EXTENSION_NUMBER}: at least {count}")
    if engine != "postgresql" and "copy" in modes:
        modes.remove("copy")
    results = {}
    for mode in modes:
        out = subprocess.run(
            [sys.executable, __file__, "--run", mode, str(count)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{'export':<12}{'rows':>9}{'first byte s':>14}{'total s':>10}"
        f"{'peak RSS MB':>13}{'RSS before':>12}{'MB out':>9}"
    )
    for mode, r in results.items():
        print(
            f"{mode:<12}{r['rows']:>9}{r['ttfb_s']:>14}{r['total_s']:>10}"
            f"{r['peak_rss_mb']:>13}{r['rss_before_mb']:>12}{r['bytes'] / 1e6:>9.1f}"
        )
    for mode, base in (("csv", "copy"), ("csv_general", "copy")):
        if mode in results and base in results:
            ratio = results[mode]["total_s"] / results[base]["total_s"]
            print(f"{mode} total time / plain COPY: {ratio:.2f}x")
    if "xlsx" in results and "openpyxl" in results:
        ratio = results["openpyxl"]["total_s"] / results["xlsx"]["total_s"]
        print(f"xlsx is {ratio:.1f}x faster than openpyxl write-only")


if __name__ == "__main__":
    main()
