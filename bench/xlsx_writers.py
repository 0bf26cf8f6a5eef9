"""XLSX writers side by side (issue 21): our export's writer against openpyxl with lxml
(write-only mode) and xlsxwriter (constant_memory mode), writing the same rows.

    .venv/bin/python bench/xlsx_writers.py                      # 1,000,000 rows, 3 repeats
    .venv/bin/python bench/xlsx_writers.py --rows 100000 --repeats 5

The rows are those of the "all CallerIDs" export (exporter `callerids_all`: number, status,
PIN, two amounts with Unlimited every tenth row, currency, creation time, extension,
organization), made in memory like bench/seed.py makes them: no database, so the figures
are the writers' alone. 100,000 distinct rows are made and repeated up to --rows.
- ours: the database rows (tuples of the exporter's fields()) go through the exporter's
  own column declaration (exports.cells.column_values) and the XLSX renderer
  (write_xlsx_chunks), a chunk at a time, as the view does; the stream is counted;
- openpyxl / xlsxwriter: the same cells (to_cell's values), converted before the clock
  starts, appended row by row and saved to a temporary file.
Each measurement runs in its own process; the writers take turns (interleaved, the order
rotating each repeat). Printed: median [min-max] per writer, the ratios per repeat and
their median, and the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITERS = ("ours", "openpyxl", "xlsxwriter")
DISTINCT_ROWS = 100_000


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    os.environ.setdefault("PIN_PEPPER", "bench-only-pepper-never-for-production")
    import django

    django.setup()


def exporter():
    """The `callerids_all` exporter's declaration, without a request or a database."""
    from types import SimpleNamespace

    from callerids.exports import AllCallerIDsExporter

    instance = object.__new__(AllCallerIDsExporter)
    instance.preferences = SimpleNamespace(currency="RON", decimals=2)
    return instance


def database_rows(fields: tuple[str, ...], count: int):
    """Tuples of `fields` as the database hands them, like bench/seed.py's CallerIDs."""
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    base = []
    for i in range(min(count, DISTINCT_ROWS)):
        unlimited = i % 10 == 0
        amount = None if unlimited else Decimal(i % 5000) + Decimal("0.1234")
        values = {
            "number": f"+4090{i:09d}",
            "status": "enabled" if i % 7 else "disabled",
            "status_reason": "" if i % 14 else "locked",
            "has_pin": i % 3 == 0,
            "unlimited": unlimited,
            "total": None if unlimited else amount + 10,
            "available": amount,
            "created_at": start + datetime.timedelta(seconds=17 * i),
            "extension__number": f"8000*{i % 50:03d}",
            "extension__organization__name": f"Bench organization {i % 50}",
        }
        base.append(tuple(values[field] for field in fields))
    for i in range(count):
        yield base[i % len(base)]


def chunked(rows, size: int):
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def run_ours(count: int) -> tuple[float, int]:
    from exports.cells import column_values
    from exports.renderers.xlsx import write_xlsx_chunks

    instance = exporter()
    columns, fields = instance.columns(), instance.fields()
    convert = column_values(columns, fields)
    rows = list(database_rows(fields, min(count, DISTINCT_ROWS)))
    chunks = (convert(chunk) for chunk in chunked(_cycle(rows, count), instance.rows_per_chunk))
    started, cpu = time.perf_counter(), time.process_time()
    size = sum(
        len(part)
        for part in write_xlsx_chunks(
            columns, chunks, title="Authorized CallerIDs", money_decimals=2
        )
    )
    return time.perf_counter() - started, time.process_time() - cpu, size


def _cycle(rows: list, count: int):
    for i in range(count):
        yield rows[i % len(rows)]


def _cell_values(count: int) -> tuple[list, list]:
    """Headers and rows of cell values (to_cell's), converted before any clock starts."""
    from exports.cells import column_values, row_converter

    instance = exporter()
    columns, fields = instance.columns(), instance.fields()
    convert_chunk, convert_row = column_values(columns, fields), row_converter(columns)
    rows = list(database_rows(fields, min(count, DISTINCT_ROWS)))
    values = [
        [cell.value for cell in convert_row(row)]
        for chunk in chunked(rows, 1000)
        for row in zip(*convert_chunk(chunk), strict=True)
    ]
    return [column.header for column in columns], values


def run_openpyxl(count: int) -> tuple[float, int]:
    from openpyxl import Workbook
    from openpyxl.xml import LXML

    if not LXML:
        raise SystemExit("openpyxl without lxml is not a fair baseline: install lxml")
    header, values = _cell_values(count)
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as output:
        started, cpu = time.perf_counter(), time.process_time()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Authorized CallerIDs")
        sheet.freeze_panes = "A2"
        sheet.append(header)
        for row in _cycle(values, count):
            sheet.append(row)
        workbook.save(output.name)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return elapsed, cpu, os.path.getsize(output.name)


def run_xlsxwriter(count: int) -> tuple[float, int]:
    import xlsxwriter

    header, values = _cell_values(count)
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as output:
        started, cpu = time.perf_counter(), time.process_time()
        workbook = xlsxwriter.Workbook(output.name, {"constant_memory": True})
        sheet = workbook.add_worksheet("Authorized CallerIDs")
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, header)
        for index, row in enumerate(_cycle(values, count), start=1):
            sheet.write_row(index, 0, row)
        workbook.close()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return elapsed, cpu, os.path.getsize(output.name)


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=WRITERS, help="internal")
    args = parser.parse_args()
    if args.child:
        setup()
        runner = {"ours": run_ours, "openpyxl": run_openpyxl, "xlsxwriter": run_xlsxwriter}
        elapsed, cpu, size = runner[args.child](args.rows)
        print(json.dumps({"seconds": elapsed, "cpu": cpu, "bytes": size}))
        return
    print(f"{args.rows:,} rows, {args.repeats} repeats, interleaved; load average {load_average()}")
    times: dict[str, list[float]] = {writer: [] for writer in WRITERS}
    cpus: dict[str, list[float]] = {writer: [] for writer in WRITERS}
    sizes: dict[str, int] = {}
    for repeat in range(args.repeats):
        order = WRITERS[repeat % 3 :] + WRITERS[: repeat % 3]
        for writer in order:
            out = subprocess.run(
                [sys.executable, __file__, "--child", writer, "--rows", str(args.rows)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            times[writer].append(result["seconds"])
            cpus[writer].append(result["cpu"])
            sizes[writer] = result["bytes"]
            print(
                f"  repeat {repeat + 1} {writer:<10} {result['seconds']:7.2f} s "
                f"(CPU {result['cpu']:.2f} s)",
                flush=True,
            )
    print(f"load average after: {load_average()}")
    labels = {
        "ours": "ours (declaration + XLSX renderer)",
        "openpyxl": "openpyxl write-only (lxml)",
        "xlsxwriter": "xlsxwriter constant_memory",
    }
    for title, figures in (("wall time", times), ("CPU time", cpus)):
        print(f"{title:<34}{'median s':>10}{'[min-max]':>18}{'MB':>8}")
        for writer in WRITERS:
            values = figures[writer]
            print(
                f"  {labels[writer]:<32}{statistics.median(values):>10.2f}"
                f"{f'[{min(values):.2f}-{max(values):.2f}]':>18}{sizes[writer] / 1e6:>8.1f}"
            )
        for baseline in ("openpyxl", "xlsxwriter"):
            ratios = [b / o for b, o in zip(figures[baseline], figures["ours"], strict=True)]
            medians = statistics.median(figures[baseline]) / statistics.median(figures["ours"])
            print(
                f"  {baseline} / ours ({title}): median {statistics.median(ratios):.1f}x "
                f"[{min(ratios):.1f}-{max(ratios):.1f}] per repeat; "
                f"ratio of the medians {medians:.1f}x"
            )


if __name__ == "__main__":
    main()
