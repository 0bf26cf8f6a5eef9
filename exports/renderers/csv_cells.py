"""The text of one CSV cell, in either dialect: the general path (csv.py) and the COPY
path's check (csv_copy.py) both use it."""

from __future__ import annotations

from exports.cells import DATE, DATETIME, EMPTY, MONEY, NUMBER, PLAIN, PROTECTED, Cell


def _money(decimal_separator: str):
    if decimal_separator == ".":
        return lambda value: f"{value:f}"
    return lambda value: f"{value:f}".replace(".", decimal_separator)


def cell_formatter(decimal_separator: str = "."):
    """The text of one cell in CSV; shared by the general path and the COPY check."""
    money = _money(decimal_separator)
    by_kind = {
        EMPTY: lambda value: "",
        PLAIN: lambda value: value,
        # A leading apostrophe makes a spreadsheet show the text and never run it.
        PROTECTED: lambda value: "'" + value,
        MONEY: money,
        NUMBER: str,
        DATETIME: lambda value: value.strftime("%Y-%m-%d %H:%M:%S"),
        DATE: lambda value: value.strftime("%Y-%m-%d"),
    }

    def format_cell(cell: Cell) -> str:
        return by_kind[cell.kind](cell.value)

    return format_cell
