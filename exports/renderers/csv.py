"""CSV: UTF-8 with a byte-order mark, RFC 4180 quoting, streamed (SPEC §8).

Two dialects: `comma` (the default: comma-separated, `.` decimals) and `semicolon`
(semicolon-separated, `,` decimals, for European Excel installations), chosen with the
`dialect` query parameter.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping

from exports.cells import row_converter
from exports.exporters import Exporter, ExportParamsError
from exports.renderers.csv_cells import cell_formatter
from exports.renderers.csv_copy import copy_enabled, copy_rows, copy_select

__all__ = ["BOM", "DIALECTS", "CsvRenderer", "cell_formatter"]

BOM = "\ufeff"
ROWS_PER_CHUNK = 500
DIALECTS = {"comma": (",", "."), "semicolon": (";", ",")}


class _Line:
    """csv.writer's file: hands back the formatted line instead of writing it."""

    def write(self, line: str) -> str:
        return line


class CsvRenderer:
    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    options = {"dialect"}

    def __init__(self, params: Mapping[str, str]):
        name = params.get("dialect") or "comma"
        if name not in DIALECTS:
            raise ExportParamsError(
                f"Unknown CSV dialect '{name}'. Use one of: {', '.join(DIALECTS)}."
            )
        self.delimiter, self.decimal_separator = DIALECTS[name]

    def render(self, exporter: Exporter) -> Iterator[bytes]:
        columns = exporter.columns()
        writer = csv.writer(
            _Line(), delimiter=self.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
        )
        format_cell = cell_formatter(self.decimal_separator)
        convert = row_converter(columns)
        # The header goes out before the query runs: the download starts at once.
        yield (BOM + writer.writerow([column.header for column in columns])).encode("utf-8")
        if exporter.csv_copy and copy_enabled():
            # PostgreSQL formats the rows exactly as below (tests/exports/test_csv_copy.py).
            sql, params = copy_select(exporter, self.decimal_separator, format_cell)
            yield from copy_rows(sql, params, delimiter=self.delimiter)
            return
        lines = []
        for row in exporter.rows():
            lines.append(writer.writerow([format_cell(cell) for cell in convert(row)]))
            if len(lines) >= ROWS_PER_CHUNK:
                yield "".join(lines).encode("utf-8")
                lines = []
        if lines:
            yield "".join(lines).encode("utf-8")
