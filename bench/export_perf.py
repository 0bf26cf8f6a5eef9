"""Export benchmark at scale (issue 12): the CSV and XLSX exports of every authorized
CallerID (exporter `callerids_all`, as an admin, through the real view
`exports:download` and its StreamingHttpResponse consumed chunk by chunk), next to
  - CSV:  `COPY (<the exporter's own SELECT>) TO STDOUT WITH CSV` of the same rows,
  - XLSX: openpyxl's write-only mode writing the same rows and cells (on --openpyxl-rows
          rows, 100,000 by default, extrapolated linearly to the full count: openpyxl
          needs ~100 s for a million rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/export_perf.py
    ... bench/export_perf.py --openpyxl-rows 1000000    # openpyxl on every row (slow)
    ... bench/export_perf.py --no-verify                # skip the openpyxl/LibreOffice read-back

Seed first (bench/seed.py). Each measurement runs in its own process, so its peak RSS
(VmHWM, Django included) is its own. Goals: CSV within 3x of COPY, XLSX at least 8x faster
than openpyxl, first byte under 1 s and peak RSS under 100 MB for both. Then the XLSX file
is read back with openpyxl (row count, first cells compared with the database) and
converted with `libreoffice --headless --convert-to csv` when LibreOffice is installed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    BIG_EXTENSION,
    current_rss_mb,
    peak_rss_mb,
    print_table,
    ratio,
    require_bench_database,
    run_child,
    setup_django,
    verdict,
)

GOAL_CSV_VS_COPY = 2.0
GOAL_XLSX_VS_OPENPYXL = 8.0
GOAL_FIRST_BYTE_S = 1.0
GOAL_PEAK_RSS_MB = 100.0


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=ADMIN_USERNAME)


def _exporter():
    from django.http import QueryDict

    from callerids.exports import AllCallerIDsExporter

    return AllCallerIDsExporter(user=_admin(), params=QueryDict(""))


class _Sink:
    """COPY's output file: counts bytes, remembers when the first arrived."""

    def __init__(self, started: float):
        self.started, self.first, self.size, self.lines = started, None, 0, 0

    def write(self, data) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.size += len(data)
        self.lines += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")


def child_copy() -> dict:
    """COPY of the exporter's own SELECT (same rows, same order), formatted by PostgreSQL."""
    from django.db import connection

    exporter = _exporter()
    sql, params = exporter.values().query.sql_with_params()
    with connection.cursor() as cursor:
        query = cursor.cursor.mogrify(sql, params).decode()
        before = current_rss_mb()
        started = time.perf_counter()
        sink = _Sink(started)
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", sink)
        finished = time.perf_counter()
    return {
        "mode": "COPY TO STDOUT",
        "rows": sink.lines - 1,
        "bytes": sink.size,
        "first_byte_s": sink.first - started,
        "first_row_s": sink.first - started,
        "total_s": finished - started,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        "sql": query,
    }


def child_view(file_format: str, output: str | None) -> dict:
    """GET /exports/callerids_all.<format> through Django's full stack (middleware, view,
    StreamingHttpResponse), consumed chunk by chunk; optionally saved to `output`."""
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(_admin())
    url = reverse("exports:download", args=["callerids_all", file_format])
    before = current_rss_mb()
    sink = open(output, "wb") if output else None  # noqa: SIM115
    started = time.perf_counter()
    response = client.get(url)
    first_byte = first_row = None
    size = chunks = 0
    for chunk in response.streaming_content:
        if not chunk:
            continue
        now = time.perf_counter()
        if first_byte is None:
            first_byte = now
        elif first_row is None:
            first_row = now  # the header goes out before the query: the second chunk has rows
        size += len(chunk)
        chunks += 1
        if sink:
            sink.write(chunk)
    finished = time.perf_counter()
    response.close()
    if sink:
        sink.close()
    return {
        "mode": f"{file_format.upper()} view",
        "status": response.status_code,
        "bytes": size,
        "chunks": chunks,
        "first_byte_s": first_byte - started,
        "first_row_s": (first_row or finished) - started,
        "total_s": finished - started,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_openpyxl(limit: int) -> dict:
    """openpyxl write-only: the same exporter rows, the same cells (to_cell), `limit` rows."""
    from openpyxl import Workbook
    from openpyxl.xml import LXML

    from exports.cells import row_converter

    if not LXML:
        raise SystemExit("openpyxl without lxml is not a fair baseline: install lxml (dev deps)")

    exporter = _exporter()
    columns = exporter.columns()
    convert = row_converter(columns)
    # The rows are fetched and converted before the clock starts: the baseline is the
    # writer alone (our export's time includes its query), so it cannot flatter us.
    values = [[cell.value for cell in convert(row)]
              for row in itertools.islice(exporter.rows(), limit)]  # fmt: skip
    before = current_rss_mb()
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(exporter.sheet_title())
    sheet.freeze_panes = "A2"
    sheet.append([column.header for column in columns])
    rows = 0
    for row in values:
        sheet.append(row)
        rows += 1
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as output:
        workbook.save(output.name)
        size = os.path.getsize(output.name)
    finished = time.perf_counter()
    return {
        "mode": "openpyxl write-only (lxml)",
        "rows": rows,
        "bytes": size,
        "first_byte_s": finished - started,  # nothing exists before the file is saved
        "first_row_s": finished - started,
        "total_s": finished - started,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_xlsxwriter(limit: int) -> dict:
    """xlsxwriter in constant_memory mode: the same exporter rows and cells, `limit` rows
    (the fastest general-purpose XLSX writer in Python, as a second baseline)."""
    import xlsxwriter

    from exports.cells import row_converter

    exporter = _exporter()
    columns = exporter.columns()
    convert = row_converter(columns)
    values = [[cell.value for cell in convert(row)]
              for row in itertools.islice(exporter.rows(), limit)]  # fmt: skip
    before = current_rss_mb()
    started = time.perf_counter()
    rows = 0
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as output:
        workbook = xlsxwriter.Workbook(output.name, {"constant_memory": True})
        sheet = workbook.add_worksheet(exporter.sheet_title()[:31])
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, [column.header for column in columns])
        for index, row in enumerate(values, start=1):
            sheet.write_row(index, 0, row)
            rows += 1
        workbook.close()
        size = os.path.getsize(output.name)
    finished = time.perf_counter()
    return {
        "mode": "xlsxwriter constant_memory",
        "rows": rows,
        "bytes": size,
        "first_byte_s": finished - started,
        "first_row_s": finished - started,
        "total_s": finished - started,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_breakdown(extension_number: str) -> dict:
    """Where the CSV and XLSX time goes, stage by stage, on one extension's export (the
    same code path as callerids_all): each stage adds one layer to the one before."""
    import csv as csv_module

    from django.db import connection, transaction
    from django.http import QueryDict

    from callback.models import CallbackExtension
    from callerids.exports import CallerIDsExporter
    from exports.cells import row_converter
    from exports.renderers.csv import CsvRenderer, cell_formatter
    from exports.renderers.xlsx import XlsxRenderer

    extension = CallbackExtension.objects.get(number=extension_number)
    params = QueryDict(f"extension={extension.pk}")

    def exporter():
        return CallerIDsExporter(user=_admin(), params=params)

    def server_side_fetch():
        sql, sql_params = exporter().values().query.sql_with_params()
        connection.ensure_connection()
        with transaction.atomic(), connection.connection.cursor(name="bench_fetch") as cursor:
            cursor.itersize = 2000
            cursor.execute(sql, sql_params)
            return sum(1 for _ in cursor)

    def django_values():
        return sum(1 for _ in exporter().values().iterator(chunk_size=2000))

    def exporter_rows():
        return sum(1 for _ in exporter().rows())

    def converted():
        instance = exporter()
        convert = row_converter(instance.columns())
        return sum(1 for row in instance.rows() if convert(row))

    def formatted():
        instance = exporter()
        convert = row_converter(instance.columns())
        format_cell = cell_formatter(".")

        class Line:
            def write(self, line):
                return line

        writer = csv_module.writer(Line(), lineterminator="\r\n")
        return sum(
            1 for row in instance.rows() if writer.writerow([format_cell(c) for c in convert(row)])
        )

    def csv_render():
        return sum(len(chunk) for chunk in CsvRenderer(QueryDict("")).render(exporter()))

    def xlsx_render():
        return sum(len(chunk) for chunk in XlsxRenderer(QueryDict("")).render(exporter()))

    stages = {}
    for label, stage in (
        ("1 server-side cursor fetch (psycopg2, no Django)", server_side_fetch),
        ("2 Django values_list().iterator()", django_values),
        ("3 exporter.rows()", exporter_rows),
        ("4 + row_converter (to_cell)", converted),
        ("5 + cell_formatter and csv.writer", formatted),
        ("6 CsvRenderer.render (whole CSV)", csv_render),
        ("7 XlsxRenderer.render (whole XLSX)", xlsx_render),
    ):
        started = time.perf_counter()
        stage()
        stages[label] = time.perf_counter() - started
    rows = exporter().values().count()
    return {"rows": rows, "stages": stages}


def child_profile(extension_number: str, file_format: str) -> dict:
    """cProfile of the real view exporting one extension, summarized (top by own time)."""
    import cProfile
    import io
    import pstats

    from django.test import Client
    from django.urls import reverse

    from callback.models import CallbackExtension

    extension = CallbackExtension.objects.get(number=extension_number)
    client = Client(HTTP_HOST="localhost")
    client.force_login(_admin())
    url = reverse("exports:download", args=["callerids", file_format])
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(url, {"extension": extension.pk})
    size = sum(len(chunk) for chunk in response.streaming_content)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return {"bytes": size, "profile": out.getvalue()}


def child(args) -> None:
    setup_django()
    require_bench_database()
    if args.child == "copy":
        result = child_copy()
    elif args.child == "breakdown":
        result = child_breakdown(BIG_EXTENSION)
    elif args.child in ("profile-csv", "profile-xlsx"):
        result = child_profile(BIG_EXTENSION, args.child.split("-")[1])
    elif args.child == "openpyxl":
        result = child_openpyxl(args.openpyxl_rows)
    elif args.child == "xlsxwriter":
        result = child_xlsxwriter(args.openpyxl_rows)
    else:
        result = child_view(args.child, args.output)
    print(json.dumps(result))


def verify_xlsx(path: str, expected_rows: int, first_numbers: list[str]) -> list[str]:
    """Read the file back with openpyxl (read-only) and check the rows and a few cells."""
    from openpyxl import load_workbook

    lines = []
    started = time.perf_counter()
    workbook = load_workbook(path, read_only=True)
    rows = 0
    head = []
    last = None
    for sheet in workbook.worksheets:
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index == 0:
                header = row
                continue
            rows += 1
            if len(head) < 3:
                head.append(row)
            last = row
    workbook.close()
    ok = rows == expected_rows and [r[0] for r in head] == first_numbers[:3]
    lines.append(
        f"openpyxl read-back: {len(workbook.worksheets)} sheet(s), {rows:,} data rows "
        f"(expected {expected_rows:,}) in {time.perf_counter() - started:.1f} s: "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    lines.append(f"  header: {header}")
    for row in head:
        lines.append(f"  row: {row}")
    lines.append(f"  last row: {last}")
    types_ok = all(
        isinstance(r[0], str)
        and (r[3] == "Unlimited" or isinstance(r[3], int | float))
        and hasattr(r[6], "year")
        for r in head
    )
    lines.append(
        f"  cell kinds (number text, amount number/'Unlimited', created date): "
        f"{'OK' if types_ok else 'MISMATCH'}"
    )
    return lines


def convert_with_libreoffice(path: str, expected_rows: int) -> list[str]:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        return ["LibreOffice: not installed (apt-get install libreoffice-calc-nogui): not checked"]
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as profile:
        started = time.perf_counter()
        completed = subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "csv",
                "--outdir",
                out,
                path,
            ],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        elapsed = time.perf_counter() - started
        produced = list(Path(out).glob("*.csv"))
        if completed.returncode != 0 or not produced:
            return [
                f"LibreOffice --convert-to csv FAILED ({completed.returncode}): "
                f"{completed.stderr.strip()[-300:]}"
            ]
        with produced[0].open(encoding="utf-8", errors="replace") as handle:
            head = [next(handle).rstrip("\r\n") for _ in range(2)]
            lines = 2 + sum(1 for _ in handle)
    ok = lines - 1 == expected_rows
    return [
        f"LibreOffice --convert-to csv: {lines - 1:,} data rows (expected {expected_rows:,}) "
        f"in {elapsed:.1f} s: {'OK' if ok else 'MISMATCH'}",
        f"  {head[0]}",
        f"  {head[1]}",
    ]


def profile(me: Path) -> None:
    breakdown = run_child(me, "--child", "breakdown")
    rows = breakdown["rows"]
    table = []
    previous = None
    for label, seconds in breakdown["stages"].items():
        added = "" if previous is None or label.startswith(("6", "7")) else seconds - previous
        table.append((
            label, f"{seconds:.2f}", f"{seconds / rows * 1e6:.1f}",
            f"{added:.2f}" if added != "" else "",
        ))  # fmt: skip
        previous = seconds
    print_table(
        f"Where the time goes: one extension's export ({BIG_EXTENSION}, {rows:,} rows)",
        table,
        ("stage", "s", "us/row", "added by the stage"),
    )
    for file_format in ("csv", "xlsx"):
        result = run_child(me, "--child", f"profile-{file_format}")
        print(f"\ncProfile of the {file_format.upper()} view ({BIG_EXTENSION}, by own time)")
        print(result["profile"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--openpyxl-rows", type=int, default=100_000)
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run every measurement this many times, interleaved (order rotated); medians",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"only: stage breakdown and cProfile of both exports of {BIG_EXTENSION}",
    )
    parser.add_argument(
        "--child",
        choices=[
            "copy",
            "csv",
            "xlsx",
            "openpyxl",
            "xlsxwriter",
            "breakdown",
            "profile-csv",
            "profile-xlsx",
        ],
        help="internal",
    )
    parser.add_argument("--output", help="internal")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    setup_django()
    name = require_bench_database()
    from callerids.models import AuthorizedCallerID, CallerIDStatus

    total = AuthorizedCallerID.objects.exclude(status=CallerIDStatus.REMOVED).count()
    first_numbers = list(_exporter().values().values_list("number", flat=True)[:3])
    print(
        f"database {name}: {total:,} CallerIDs in the export (callerids_all, as "
        f"{ADMIN_USERNAME}); 2 CPUs share the client, Django and PostgreSQL"
    )
    me = Path(__file__)
    if args.profile:
        profile(me)
        return
    handle, xlsx_file = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    commands = {
        "copy": ("--child", "copy"),
        "csv": ("--child", "csv"),
        "xlsx": ("--child", "xlsx", "--output", xlsx_file),
        "openpyxl": ("--child", "openpyxl", "--openpyxl-rows", str(args.openpyxl_rows)),
        "xlsxwriter": ("--child", "xlsxwriter", "--openpyxl-rows", str(args.openpyxl_rows)),
    }
    runs: dict[str, list[dict]] = {key: [] for key in commands}
    order = list(commands)
    for repeat in range(args.repeats):
        for key in order[repeat % len(order) :] + order[: repeat % len(order)]:
            runs[key].append(run_child(me, *commands[key]))
        print(f"  repeat {repeat + 1} done, load average {os.getloadavg()[0]:.1f}", flush=True)
    # The run with the median total time stands for each measurement in the table.
    results = {
        key: sorted(samples, key=lambda r: r["total_s"])[len(samples) // 2]
        for key, samples in runs.items()
    }
    xw = results["xlsxwriter"]
    xw_full = xw["total_s"] * total / xw["rows"] if xw["rows"] else float("nan")
    op = results["openpyxl"]
    op_full = op["total_s"] * total / op["rows"] if op["rows"] else float("nan")
    rows = []
    for key in ("copy", "csv", "xlsx", "openpyxl", "xlsxwriter"):
        r = results[key]
        count = r.get("rows", total)
        rows.append(
            (
                r["mode"],
                f"{count:,}",
                f"{r['bytes'] / 1e6:.1f}",
                f"{r['first_byte_s']:.3f}",
                f"{r['first_row_s']:.3f}",
                f"{r['total_s']:.1f}",
                f"{count / r['total_s']:,.0f}",
                f"{r['rss_before_mb']:.0f}",
                f"{r['peak_rss_mb']:.0f}",
            )
        )
    rows.append(("openpyxl extrapolated", f"{total:,}", "", "", "", f"{op_full:.1f}", "", "", ""))
    rows.append(("xlsxwriter extrapolated", f"{total:,}", "", "", "", f"{xw_full:.1f}", "", "", ""))
    print_table(
        "Exports of every CallerID (times in seconds, RSS in MB, each in its own process)",
        rows,
        (
            "export",
            "rows",
            "MB out",
            "first byte",
            "first row",
            "total",
            "rows/s",
            "RSS before",
            "peak RSS",
        ),
    )
    if args.repeats > 1:
        print(f"\nSpread of {args.repeats} interleaved repeats (total seconds, min-max)")
        for key, samples in runs.items():
            times = sorted(r["total_s"] for r in samples)
            median, low, high = times[len(times) // 2], times[0], times[-1]
            print(f"  {results[key]['mode']:<28} {median:7.1f} [{low:.1f}-{high:.1f}]")
        per_repeat = sorted(
            (o["total_s"] * total / o["rows"]) / x["total_s"]
            for o, x in zip(runs["openpyxl"], runs["xlsx"], strict=True)
        )
        print(
            "  openpyxl (extrapolated) / XLSX view, per repeat: "
            + ", ".join(f"{r:.1f}x" for r in per_repeat)
        )
    csv_ratio = results["csv"]["total_s"] / results["copy"]["total_s"]
    speedup = op_full / results["xlsx"]["total_s"]
    checks = [
        (
            f"CSV view / COPY time = {csv_ratio:.2f}x (goal <= {GOAL_CSV_VS_COPY:.0f}x)",
            csv_ratio <= GOAL_CSV_VS_COPY,
        ),
        (
            f"openpyxl / XLSX view time = {speedup:.1f}x faster "
            f"(goal >= {GOAL_XLSX_VS_OPENPYXL:.0f}x;"
            f" openpyxl {op['rows']:,} rows x {total / max(op['rows'], 1):.0f})",
            speedup >= GOAL_XLSX_VS_OPENPYXL,
        ),
    ]
    for key in ("csv", "xlsx"):
        r = results[key]
        checks.append(
            (
                f"{r['mode']}: first byte {r['first_byte_s']:.3f} s (goal < 1 s), "
                f"first data rows at {r['first_row_s']:.3f} s",
                r["first_byte_s"] < GOAL_FIRST_BYTE_S,
            )
        )
        checks.append(
            (
                f"{r['mode']}: peak RSS {r['peak_rss_mb']:.0f} MB (goal < 100 MB; "
                f"{r['rss_before_mb']:.0f} MB before the request)",
                r["peak_rss_mb"] < GOAL_PEAK_RSS_MB,
            )
        )
    print("\nGoals")
    for text, ok in checks:
        print(f"  [{verdict(ok)}] {text}")
    print(
        f"\nratios: CSV/COPY {ratio(results['csv']['total_s'], results['copy']['total_s'])}, "
        f"XLSX/CSV {ratio(results['xlsx']['total_s'], results['csv']['total_s'])}, "
        f"openpyxl(extrapolated)/XLSX {ratio(op_full, results['xlsx']['total_s'])}, "
        f"xlsxwriter constant_memory(extrapolated)/XLSX "
        f"{ratio(xw_full, results['xlsx']['total_s'])}"
    )
    if not args.no_verify:
        print("\nXLSX file checks")
        for line in verify_xlsx(xlsx_file, total, first_numbers):
            print("  " + line)
        for line in convert_with_libreoffice(xlsx_file, total):
            print("  " + line)
    os.unlink(xlsx_file)


if __name__ == "__main__":
    main()
