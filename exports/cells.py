"""How every exported value is written, decided by its kind, never by its text (SPEC §8).

An exporter declares a kind for each column (`Column("Total Credit", MONEY)`); `to_cell()`
turns a value of that kind into a `Cell` that both renderers (CSV and XLSX) write the same
way. Amounts and validated phone numbers are written as they are; any other text that a
spreadsheet could run as a formula is marked `PROTECTED`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone

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

PHONE_RE = re.compile(r"^\+?[0-9]{3,15}\Z")
# What spreadsheets read as the start of a formula (or DDE): =, +, -, @, tab, carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_DEFAULT_WIDTHS = {TEXT: 14, PHONE: 18, MONEY: 16, INTEGER: 10, DATETIME: 20, DATE: 12}


@dataclass(frozen=True)
class Column:
    """One column of an export: its label, its kind and (optionally) its width in characters."""

    label: str
    kind: str = TEXT
    width: int | None = None

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
