"""A prototype, for the benchmark only: the CallerIDs CSV export formatted by PostgreSQL
(`COPY … TO STDOUT`, SPEC §8 allows it when a test proves it writes exactly what the
general path writes), streamed. It measures whether this path meets the 3x-of-COPY goal and
compares its bytes with the general path (exports.renderers.csv.CsvRenderer).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench \
        .venv/bin/python bench/bench_copy_csv.py

Not application code: the exports owner may take the idea (see docs/benchmarks.md).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ADMIN_USERNAME, BIG_EXTENSION, setup_django  # noqa: E402

FORMULA_STARTS = "('=', '+', '-', '@', E'\\t', E'\\r')"


def _text(sql: str) -> str:
    """TEXT cell: a leading apostrophe before formula-looking text; '' as NULL (unquoted)."""
    return (
        f"NULLIF(CASE WHEN left({sql}, 1) IN {FORMULA_STARTS} THEN '''' || {sql} "
        f"ELSE {sql} END, '')"
    )


def _phone(sql: str) -> str:
    return f"CASE WHEN {sql} ~ '^\\+?[0-9]{{3,15}}$' THEN {sql} ELSE {_text(sql)} END"


def _money(value: str, unlimited: str, decimal_separator: str) -> str:
    text = f"({value})::text" if decimal_separator == "." else f"replace(({value})::text, '.', ',')"
    return f"CASE WHEN {unlimited} THEN 'Unlimited' ELSE {text} END"


def copy_select(exporter, decimal_separator: str) -> tuple[str, list]:
    """The exporter's own query, wrapped in a SELECT formatting each column as to_cell and
    cell_formatter would (CallerIDs columns only)."""
    from django.conf import settings

    from exports.cells import text_cell

    inner, params = exporter.values().query.sql_with_params()
    # values_list order: number, status, status_reason, has_pin, unlimited, total,
    # available, created_at, [extension number, organization name]
    extra = len(exporter.fields()) > 8
    names = ["number", "status", "reason", "has_pin", "unlimited", "total", "available",
             "created"] + (["extension", "organization"] if extra else [])  # fmt: skip
    currency = text_cell(exporter.currency)
    currency_text = ("'" if currency.kind == "protected" else "") + currency.value
    columns = [
        _phone("r.number"),
        "CASE r.status WHEN 'enabled' THEN 'Enabled' WHEN 'removed' THEN 'Removed' "
        "ELSE CASE WHEN r.reason <> '' THEN 'Disabled (' || r.reason || ')' ELSE 'Disabled' END "
        "END",
        "CASE WHEN r.has_pin THEN 'Yes' ELSE 'No' END",
        _money("r.total", "r.unlimited", decimal_separator),
        _money("r.available", "r.unlimited", decimal_separator),
        "NULLIF(%s, '')",
        "to_char(r.created AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')",
    ]
    if extra:
        columns += [_text("r.extension"), _text("r.organization")]
    sql = f"SELECT {', '.join(columns)} FROM ({inner}) AS r({', '.join(names)})"
    # The SELECT list's placeholders come before the subquery's.
    return sql, [currency_text, settings.TIME_ZONE, *params]


def copy_csv_chunks(exporter, *, delimiter: str = ",", decimal_separator: str = "."):
    """BOM and header, then the rows as PostgreSQL formats them, CRLF line ends; streamed
    from a thread running COPY into a bounded queue (memory stays flat)."""
    import csv
    import io

    from django.db import connection

    from exports.renderers.csv import BOM

    header = io.StringIO()
    csv.writer(header, delimiter=delimiter, lineterminator="\r\n").writerow(
        [column.header for column in exporter.columns()]
    )
    yield (BOM + header.getvalue()).encode()
    sql, params = copy_select(exporter, decimal_separator)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
    chunks: queue.Queue = queue.Queue(maxsize=32)
    failure: list[BaseException] = []

    class Rows:
        def __init__(self):
            self.parts: list[bytes] = []

        def write(self, row: bytes) -> None:
            # One CopyData message per row, ending in "\n": CRLF like the general path.
            self.parts.append(row[:-1] + b"\r\n")
            if len(self.parts) >= 2000:
                chunks.put(b"".join(self.parts))
                self.parts = []

    def run() -> None:
        rows = Rows()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')",
                    rows,
                    size=1 << 16,
                )
            if rows.parts:
                chunks.put(b"".join(rows.parts))
        except BaseException as error:  # handed to the consumer
            failure.append(error)
        finally:
            chunks.put(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while (chunk := chunks.get()) is not None:
        yield chunk
    thread.join()
    if failure:
        raise failure[0]


def main() -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.http import QueryDict

    from callback.models import CallbackExtension
    from callerids.exports import AllCallerIDsExporter, CallerIDsExporter
    from exports.renderers.csv import CsvRenderer

    user = get_user_model().objects.get(username=ADMIN_USERNAME)
    extension = CallbackExtension.objects.get(number=BIG_EXTENSION)
    for dialect, delimiter, separator in (("comma", ",", "."), ("semicolon", ";", ",")):
        params = QueryDict(f"extension={extension.pk}")
        general = b"".join(
            CsvRenderer(QueryDict(f"dialect={dialect}")).render(
                CallerIDsExporter(user=user, params=params)
            )
        )
        fast = b"".join(
            copy_csv_chunks(
                CallerIDsExporter(user=user, params=params),
                delimiter=delimiter,
                decimal_separator=separator,
            )
        )
        same = general == fast
        rows = general.count(b"\n") - 1
        verdict = "writes exactly the same bytes as" if same else "DIFFERS from"
        print(
            f"{BIG_EXTENSION} ({rows:,} rows), dialect {dialect}: COPY path {verdict} CsvRenderer"
        )
        if not same:
            for a, b in zip(general.splitlines(), fast.splitlines(), strict=False):
                if a != b:
                    print(f"  general: {a!r}\n  copy:    {b!r}")
                    break
    exporter = AllCallerIDsExporter(user=user, params=QueryDict(""))
    started = time.perf_counter()
    first = None
    size = 0
    for chunk in copy_csv_chunks(exporter):
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    total = time.perf_counter() - started
    print(f"callerids_all through the COPY path: {size / 1e6:.1f} MB in {total:.1f} s, "
          f"first byte {first:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
