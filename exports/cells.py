"""How every exported value is written, decided by its kind, never by its text (SPEC §8).

An exporter declares its columns once: `Column("Total Credit", MONEY, "total",
unlimited_if="unlimited")` says the header, the kind, the field the value comes from and
how that value becomes the cell's (labels, a constant, Unlimited). Everything else is
derived from that declaration (exports.exporters, exports.renderers):
- the fields read from the database and the Python rows (`Exporter.rows()`);
- the CSV cells (`to_cell()` + the CSV renderer's cell_formatter);
- the XLSX cells (the XLSX renderer's per-kind column writers);
- the SQL of the CSV renderer's COPY path (exports.renderers.csv_copy).

`to_cell()` turns a value of a kind into a `Cell` that both renderers write the same way.
Amounts and validated phone numbers are written as they are; any other text that a
spreadsheet could run as a formula is marked `PROTECTED`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone

# The money constants exports write with (exact 4-decimal amounts, the word for an
# Unlimited CallerID) are values.money's.
from values.money import FOUR_PLACES
from values.money import UNLIMITED as UNLIMITED_TEXT

# Column kinds an exporter may declare.
TEXT = "text"
PHONE = "phone"
MONEY = "money"
INTEGER = "integer"
DATETIME = "datetime"
DATE = "date"

# Cell kinds the renderers write (besides MONEY, DATETIME and DATE, named as above).
EMPTY = "empty"
PLAIN = "plain"  # text written exactly as it is
PROTECTED = "protected"  # text a spreadsheet must show as text and never run
NUMBER = "number"  # an int


class _Unlimited:
    """The value of a money column for an Unlimited CallerID: written as the text Unlimited."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNLIMITED"


UNLIMITED = _Unlimited()

# `labels` of a yes/no column.
YES_NO = {True: "Yes", False: "No"}

PHONE_RE = re.compile(r"^\+?[0-9]{3,15}\Z")
# What spreadsheets read as the start of a formula (or DDE): =, +, -, @, tab, carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_DEFAULT_WIDTHS = {TEXT: 14, PHONE: 18, MONEY: 16, INTEGER: 10, DATETIME: 20, DATE: 12}


class _Keep:
    """`if_empty`'s default: an empty value is written as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()
# `unlimited_if`'s value for "a NULL amount is Unlimited" (the ledger's Unlimited grants).
IF_NULL = "__null__"


@dataclass(frozen=True)
class Column:
    """One column of an export, declared once: everything that writes it derives from this.

    - `label`, `kind` (TEXT, PHONE, MONEY, INTEGER, DATETIME, DATE), `width` (characters);
    - `source`: the field (or annotation) of the exporter's queryset the value is read from,
      or a tuple of fields handed to `compute`;
    - `labels`: value -> text, as the page says it (choices, Yes/No); other values as they are;
    - `compute`: a function of the source values giving the value (a rule no mapping says),
      with `sql`: the same rule in SQL, a function of the source columns' SQL expressions
      returning (sql, params), for the COPY path (without it the exporter cannot use COPY);
    - `if_empty`: what a None or '' value becomes (None: an empty cell; a text);
    - `unlimited_if` (MONEY): a boolean field true when the amount is Unlimited, or IF_NULL;
    - `constant`: the same value on every row (no source).
    """

    label: str
    kind: str = TEXT
    source: str | tuple[str, ...] | None = None
    width: int | None = None
    labels: Mapping | None = None
    compute: Callable | None = None
    sql: Callable | None = None
    if_empty: Any = KEEP
    unlimited_if: str | None = None
    constant: Any = KEEP

    @property
    def source_fields(self) -> tuple[str, ...]:
        """The fields the value is read from (several for `compute`)."""
        if isinstance(self.source, tuple):
            return self.source
        return () if self.source is None else (self.source,)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every field this column reads, `unlimited_if`'s included."""
        if self.unlimited_if not in (None, IF_NULL):
            return (*self.source_fields, self.unlimited_if)
        return self.source_fields

    @property
    def header(self) -> str:
        # Times are exported in the server's time zone, named in the header (SPEC §8).
        if self.kind == DATETIME:
            return f"{self.label} ({settings.TIME_ZONE})"
        return self.label

    @property
    def display_width(self) -> int:
        # Wide enough for the header, which is bold.
        return max(self.width or _DEFAULT_WIDTHS[self.kind], len(self.header) + 3)


class Cell(NamedTuple):
    kind: str
    value: Any


_EMPTY = Cell(EMPTY, "")
_ZERO = Decimal(0)
_UNLIMITED_CELL = Cell(PLAIN, UNLIMITED_TEXT)


def text_cell(value: Any) -> Cell:
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return Cell(PROTECTED, text)
    return Cell(PLAIN, text)


def _money_cell(value: Any) -> Cell:
    if value is UNLIMITED:
        return _UNLIMITED_CELL
    if not isinstance(value, Decimal):
        raise TypeError(f"A money column takes Decimal or UNLIMITED, not {type(value).__name__}")
    # Adding zero turns a negative zero (-0.0000) into 0.0000.
    return Cell(MONEY, value.quantize(FOUR_PLACES) + _ZERO)


def _phone_cell(value: Any) -> Cell:
    text = str(value)
    if PHONE_RE.match(text):
        return Cell(PLAIN, text)
    return text_cell(text)


def _integer_cell(value: Any) -> Cell:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"An integer column takes int, not {type(value).__name__}")
    return Cell(NUMBER, value)


def _datetime_cell(value: Any) -> Cell:
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"A datetime column takes datetime, not {type(value).__name__}")
    if value.tzinfo is not None:
        # The server's zone (settings.TIME_ZONE), not a zone activated for one request.
        value = value.astimezone(timezone.get_default_timezone())
    # Whole seconds: what the page shows, and what both formats can hold exactly.
    return Cell(DATETIME, value.replace(tzinfo=None, microsecond=0))


def _date_cell(value: Any) -> Cell:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"A date column takes date, not {type(value).__name__}")
    return Cell(DATE, value)


_BY_KIND = {
    TEXT: text_cell,
    PHONE: _phone_cell,
    MONEY: _money_cell,
    INTEGER: _integer_cell,
    DATETIME: _datetime_cell,
    DATE: _date_cell,
}


def to_cell(kind: str, value: Any) -> Cell:
    """The cell for `value` in a column of `kind`: the one place deciding how values are written.

    - None: an empty cell;
    - MONEY: the exact 4-decimal Decimal (a number), or UNLIMITED -> the text "Unlimited";
    - PHONE: a number matching ^\\+?[0-9]{3,15}$ is written exactly as text; anything else
      is treated as TEXT;
    - TEXT: written as text; PROTECTED when it begins with =, +, -, @, tab or CR;
    - DATETIME: converted to the server time zone (settings.TIME_ZONE), whole seconds;
    - DATE, INTEGER: as they are.
    Raises TypeError when a value does not fit its column's kind (a programming error).
    """
    if value is None:
        return _EMPTY
    return _BY_KIND[kind](value)


def row_converter(columns: list[Column]):
    """A function turning one row of values into its cells, exactly as to_cell() would.

    The per-column functions are looked up once, not once per value: exports write millions.
    """
    converters = [_BY_KIND[column.kind] for column in columns]

    def convert(row) -> list[Cell]:
        return [
            _EMPTY if value is None else convert_one(value)
            for convert_one, value in zip(converters, row, strict=True)
        ]

    return convert


def fields_of(columns: list[Column]) -> tuple[str, ...]:
    """Every field the columns read, once each, in the order they are first named."""
    return tuple(dict.fromkeys(field for column in columns for field in column.sources))


def column_values(columns: list[Column], fields: tuple[str, ...]):
    """A function turning a chunk of database rows (tuples of `fields`) into the chunk's
    values, column by column (one list per column): a column at a time, so each step is
    one list comprehension over the chunk, not a function call per value."""
    index = {field: i for i, field in enumerate(fields)}
    steps = [_column_steps(column, index) for column in columns]

    def convert(chunk: list[tuple]) -> list:
        if not chunk:
            return [[] for _ in steps]
        by_field = list(zip(*chunk, strict=True))
        return [step(by_field, len(chunk)) for step in steps]

    return convert


def _column_steps(column: Column, index: dict[str, int]):
    """The function giving one column's values from the chunk's fields (see Column)."""
    if column.constant is not KEEP:
        constant = column.constant
        return lambda by_field, count: [constant] * count
    positions = [index[field] for field in column.source_fields]
    if not positions:
        raise ValueError(f"Column {column.label!r} has neither a source nor a constant")
    compute, labels, if_empty = column.compute, column.labels, column.if_empty
    flag = None
    if column.unlimited_if not in (None, IF_NULL):
        flag = index[column.unlimited_if]
    null_is_unlimited = column.unlimited_if == IF_NULL

    def values(by_field, count):
        if compute is not None:
            out = list(map(compute, *(by_field[i] for i in positions)))
        else:
            out = by_field[positions[0]]
        if labels is not None:
            get = labels.get
            out = [get(value, value) for value in out]
        if if_empty is not KEEP:
            out = [if_empty if value is None or value == "" else value for value in out]
        if flag is not None:
            out = [
                UNLIMITED if unlimited else v
                for unlimited, v in zip(by_field[flag], out, strict=True)
            ]
        elif null_is_unlimited:
            out = [UNLIMITED if value is None else value for value in out]
        return out

    return values
