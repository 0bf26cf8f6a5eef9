"""CSV formatted by PostgreSQL: `COPY (SELECT …) TO STDOUT`, streamed (SPEC §8).

The general path reads every row into Python, turns each value into a cell (to_cell) and
each cell into CSV text (cell_formatter, csv.writer); for a million rows that is most of
the export's time. Here the exporter's own query (scoped, filtered and ordered exactly as
the general path's) is wrapped in a SELECT derived from the same column declaration
(exports.cells.Column: source field, labels, if_empty, Unlimited, constant, or a rule's
own SQL) that formats every column as those functions do, and PostgreSQL writes the CSV:

- text: NULL and '' stay empty; text beginning with =, +, -, @, tab or CR gets the
  leading apostrophe (the cells.FORMULA_STARTS rule);
- phone numbers matching ^\\+?[0-9]{3,15}$ as they are, anything else as text;
- amounts: the 4-decimal value (`,` decimals in the semicolon dialect) or Unlimited;
- date-times: in settings.TIME_ZONE (`AT TIME ZONE`), whole seconds, `YYYY-MM-DD HH24:MI:SS`;
- constant columns (the currency) are formatted in Python by to_cell and cell_formatter.

Quoting: `COPY … (FORMAT csv)` quotes a value containing the delimiter, the quote, CR or
LF, like csv.QUOTE_MINIMAL (whose line terminator is CRLF); it also quotes an empty
string, which is why every empty value is sent as NULL (written unquoted). Rows end in LF
from PostgreSQL (one CopyData message per row) and are given CRLF here.

tests/exports/test_csv_copy.py proves, byte for byte, that both paths write the same.

COPY runs on a dedicated connection (Django's own may not be used from another thread) in
a thread that fills a bounded queue the response reads: memory stays flat, and a download
stopped early cancels the query and closes the connection. The BOM and the header leave
before the connection is opened: the download starts at once.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from exports.cells import (
    DATE,
    DATETIME,
    FORMULA_STARTS,
    IF_NULL,
    INTEGER,
    KEEP,
    MONEY,
    PHONE,
    TEXT,
    UNLIMITED,
    Column,
    to_cell,
)
from exports.renderers.csv_cells import cell_formatter

# Bytes handed to the response at a time, and chunks the COPY thread may run ahead.
CHUNK_BYTES = 256 * 1024
QUEUE_CHUNKS = 8

# cells.FORMULA_STARTS as code points: ascii() of the first character (0 for '') compared
# with integers costs less per row than comparing text or running a regular expression.
# PHONE: "+" starts a valid number (cells.PHONE_RE) when 3 to 15 ASCII digits follow.
_FORMULA_CODES = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
_FORMULA_CODES_BUT_PLUS = ", ".join(str(ord(start)) for start in FORMULA_STARTS if start != "+")
_PLUS = ord("+")


def copy_enabled() -> bool:
    """On PostgreSQL only, unless switched off (setting or env EXPORT_CSV_COPY=0/false/off),
    and never inside a transaction: COPY's own connection would not see its writes."""
    if not settings.IS_POSTGRES or not settings.EXPORT_CSV_COPY:  # settings/base.py
        return False
    return not connections[DEFAULT_DB_ALIAS].in_atomic_block


def text_sql(expr: str) -> str:
    """SQL writing the text `expr` as to_cell(TEXT) + cell_formatter do: a leading apostrophe
    before formula-looking text; NULL for '' (COPY writes it unquoted, like csv.writer)."""
    return (
        f"CASE WHEN ascii({expr}) IN ({_FORMULA_CODES}) THEN '''' || {expr} "
        f"ELSE NULLIF({expr}, '') END"
    )


def text_value(value: Any) -> str:
    """The CSV text of a TEXT cell holding `value` (the same in both dialects)."""
    return cell_formatter()(to_cell(TEXT, value))


def phone_sql(expr: str) -> str:
    """SQL writing `expr` as to_cell(PHONE) + cell_formatter do."""
    valid_after_plus = (
        f"char_length({expr}) BETWEEN 4 AND 16 AND ltrim(substr({expr}, 2), '0123456789') = ''"
    )
    return (
        f"CASE WHEN ascii({expr}) IN ({_FORMULA_CODES_BUT_PLUS}) "
        f"OR (ascii({expr}) = {_PLUS} AND NOT ({valid_after_plus})) THEN '''' || {expr} "
        f"ELSE NULLIF({expr}, '') END"
    )


def _cell_sql(kind: str, expr: str, unlimited: str | None, decimal_separator: str, format_cell):
    """(SQL, params) writing one value exactly as to_cell() + cell_formatter() would."""
    if kind == TEXT:
        return text_sql(expr), []
    if kind == PHONE:
        return phone_sql(expr), []
    if kind == MONEY:
        number, params = f"{expr}::numeric(14,4)::text", []
        if decimal_separator != ".":
            number, params = f"replace({number}, '.', %s)", [decimal_separator]
        if unlimited is None:
            return number, params
        unlimited_text = format_cell(to_cell(MONEY, UNLIMITED))
        return f"CASE WHEN {unlimited} THEN %s ELSE {number} END", [unlimited_text, *params]
    if kind == DATETIME:
        return f"to_char({expr} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", [settings.TIME_ZONE]
    if kind == DATE:
        return f"to_char({expr}, 'YYYY-MM-DD')", []
    if kind == INTEGER:
        return f"{expr}::text", []
    raise ValueError(f"Unknown column kind {kind!r}")


def _value_sql(column: Column, expr_of: dict[str, str]) -> tuple[str, list]:
    """(SQL, params) giving the column's value from the exporter's row, as the Python path
    does (exports.cells.column_values): compute, labels, if_empty, in that order."""
    if column.compute is not None:
        if column.sql is None:
            raise ValueError(f"Column {column.label!r} computes its value without SQL")
        sql, params = column.sql(*(expr_of[field] for field in column.source_fields))
        params = list(params)
    else:
        sql, params = expr_of[column.source], []
    if column.labels is not None:
        cases = " ".join("WHEN %s THEN %s" for _ in column.labels)
        params = [
            *params,
            *(part for value, label in column.labels.items() for part in (value, label)),
            *params,
        ]
        sql = f"CASE ({sql}) {cases} ELSE ({sql})::text END"
    if column.if_empty is not KEEP:
        if column.kind not in (TEXT, PHONE):
            raise ValueError(f"Column {column.label!r}: if_empty in SQL is for text only")
        if column.if_empty is not None:  # None: the cell's SQL writes '' as empty anyway
            sql, params = f"COALESCE(NULLIF(({sql})::text, ''), %s)", [*params, column.if_empty]
    return sql, params


def copy_select(exporter, decimal_separator: str, format_cell) -> tuple:
    """The SELECT formatting the exporter's rows: (sql, params) for the database's cursor,
    derived from its column declaration (exports.cells.Column) and its values() queryset.

    Three levels: the exporter's query (r.c0, r.c1, … in the order of its fields()), each
    column's value (v.v0, …) and each value's CSV text, so each column's SQL and
    placeholders appear once. Projections only: PostgreSQL keeps the inner ORDER BY.
    `format_cell` is the general path's cell_formatter, for the constant columns and the
    Unlimited text.
    """
    columns = exporter.columns()
    query = exporter.values().query
    inner, inner_params = query.sql_with_params()
    fields = exporter.fields()
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    expr_of = {field: f"r.c{i}" for i, field in enumerate(fields)}
    values, value_params, cells, cell_params = [], [], [], []
    for i, column in enumerate(columns):
        kind = column.kind
        if column.constant is not KEEP:
            values.append(f"NULL AS v{i}")
            cells.append("NULLIF(%s, '')")
            cell_params.append(format_cell(to_cell(kind, column.constant)))
            continue
        sql, params = _value_sql(column, expr_of)
        cast = "::text" if kind in (TEXT, PHONE) else ""
        values.append(f"({sql}){cast} AS v{i}")
        value_params.extend(params)
        unlimited = None
        if column.unlimited_if == IF_NULL:
            unlimited = f"v.v{i} IS NULL"
        elif column.unlimited_if is not None:
            values.append(f"({expr_of[column.unlimited_if]}) AS u{i}")
            unlimited = f"v.u{i}"
        sql, params = _cell_sql(kind, f"v.v{i}", unlimited, decimal_separator, format_cell)
        cells.append(sql)
        cell_params.extend(params)
    sql = (
        f"SELECT {', '.join(cells)} FROM (SELECT {', '.join(values)} "
        f"FROM ({inner}) AS r({names})) AS v"
    )
    # Placeholders in the order they appear: the cells', the values', the query's.
    return sql, [*cell_params, *value_params, *inner_params]


class _Stopped(Exception):
    """The download was stopped: the COPY thread gives up."""


class _Feed:
    """copy_expert's file: one write per row (ending in LF), handed on in CRLF chunks."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event):
        self.chunks = chunks
        self.stop = stop
        self.rows: list[bytes] = []
        self.size = 0

    def write(self, row) -> None:
        self.rows.append(row[:-1])
        self.size += len(row)
        if self.size >= CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.rows.append(b"")
            self.put(b"\r\n".join(self.rows))
            self.rows = []
            self.size = 0

    def put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped


_DONE = object()


def copy_rows(sql: str, params: Sequence, *, delimiter: str) -> Iterator[bytes]:
    """The rows of `sql` as CSV (CRLF line ends), chunk by chunk, formatted by PostgreSQL."""
    raw = psycopg2.connect(**connections[DEFAULT_DB_ALIAS].get_connection_params())
    try:
        # One consistent snapshot, and nothing this connection could change.
        raw.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with raw.cursor() as cursor:
            query = cursor.mogrify(sql, params).decode()
        copy = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
        chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        stop = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            feed = _Feed(chunks, stop)
            try:
                with raw.cursor() as cursor:
                    cursor.copy_expert(copy, feed)
                raw.rollback()
                feed.flush()
                feed.put(_DONE)
            except _Stopped:
                pass
            except BaseException as error:  # handed to the response, below
                failure.append(error)
                with contextlib.suppress(_Stopped):
                    feed.put(_DONE)

        thread = threading.Thread(target=run, name="export-csv-copy", daemon=True)
        thread.start()
        try:
            while (chunk := chunks.get()) is not _DONE:
                yield chunk
            thread.join()
            if failure:
                raise failure[0]
        finally:
            if thread.is_alive():  # the download was stopped before the end
                stop.set()
                raw.cancel()
                thread.join()
    finally:
        raw.close()
