"""to_cell(): how each value is written, decided by the column's kind, not the text."""

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exports.cells import (
    DATE,
    DATETIME,
    EMPTY,
    IF_NULL,
    INTEGER,
    MONEY,
    NUMBER,
    PHONE,
    PLAIN,
    PROTECTED,
    TEXT,
    UNLIMITED,
    YES_NO,
    Cell,
    Column,
    column_values,
    fields_of,
    row_converter,
    to_cell,
)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_looking_text_is_protected(text):
    assert to_cell(TEXT, text) == Cell(PROTECTED, text)


@pytest.mark.parametrize("text", ["Org A1", "a=b", " =1", "1-2", "", "Unlimited"])
def test_other_text_is_plain(text):
    assert to_cell(TEXT, text) == Cell(PLAIN, text)


@pytest.mark.parametrize("number", ["+40721000123", "0721000123", "123", "+123456789012345"])
def test_valid_phone_numbers_are_written_exactly(number):
    assert to_cell(PHONE, number) == Cell(PLAIN, number)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+12", Cell(PROTECTED, "+12")),
        ("+1234567890123456", Cell(PROTECTED, "+1234567890123456")),
        ("=1+1", Cell(PROTECTED, "=1+1")),
        ("+40 721", Cell(PROTECTED, "+40 721")),
        ("12a", Cell(PLAIN, "12a")),
    ],
)
def test_invalid_phone_numbers_are_treated_as_text(value, cell):
    assert to_cell(PHONE, value) == cell


def test_amounts_are_exact_four_decimal_numbers_even_when_negative():
    assert to_cell(MONEY, Decimal("-3.25")) == Cell(MONEY, Decimal("-3.2500"))
    assert str(to_cell(MONEY, Decimal("9999999999.9999")).value) == "9999999999.9999"
    assert str(to_cell(MONEY, Decimal("-0")).value) == "0.0000"


def test_unlimited_is_the_text_unlimited():
    assert to_cell(MONEY, UNLIMITED) == Cell(PLAIN, "Unlimited")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        to_cell(MONEY, 1.5)


def test_datetimes_are_in_the_server_time_zone_in_whole_seconds():
    value = datetime.datetime(2026, 7, 1, 21, 15, 7, 999999, tzinfo=datetime.UTC)

    assert to_cell(DATETIME, value) == Cell(DATETIME, datetime.datetime(2026, 7, 2, 0, 15, 7))


def test_dates_integers_and_none():
    assert to_cell(DATE, datetime.date(2026, 1, 2)) == Cell(DATE, datetime.date(2026, 1, 2))
    assert to_cell(INTEGER, 7) == Cell(NUMBER, 7)
    assert to_cell(TEXT, None).kind == EMPTY
    assert to_cell(MONEY, None).kind == EMPTY


def test_datetime_header_names_the_time_zone():
    assert Column("Created", DATETIME).header == "Created (Europe/Bucharest)"
    assert Column("Created", TEXT).header == "Created"


def test_row_converter_agrees_with_to_cell():
    columns = [Column("A", PHONE), Column("B", MONEY), Column("C", TEXT)]
    row = ("+40721000123", Decimal("1.5"), "-x")

    assert row_converter(columns)(row) == [
        to_cell(column.kind, value) for column, value in zip(columns, row, strict=True)
    ]
    with pytest.raises(ValueError):
        row_converter(columns)(row[:2])


def test_a_column_declaration_gives_each_columns_values_from_the_database_rows():
    columns = [
        Column("Number", PHONE, "number"),
        Column("PIN", TEXT, "has_pin", labels=YES_NO),
        Column("Total", MONEY, "total", unlimited_if="unlimited"),
        Column("Left", MONEY, "left", unlimited_if=IF_NULL),
        Column("By", TEXT, "by", if_empty="manage.py"),
        Column("Order", TEXT, "order", if_empty=None),
        Column("Both", TEXT, ("number", "by"), compute=lambda number, by: f"{number}/{by}"),
        Column("Currency", TEXT, constant="RON"),
    ]
    fields = fields_of(columns)
    assert fields == ("number", "has_pin", "total", "unlimited", "left", "by", "order")
    chunk = [
        ("+40721000123", True, Decimal("1"), False, Decimal("2"), "", "A-1"),
        ("0721", False, None, True, None, None, ""),
    ]

    values = column_values(columns, fields)(chunk)

    assert [list(row) for row in zip(*values, strict=True)] == [
        [
            "+40721000123",
            "Yes",
            Decimal("1"),
            Decimal("2"),
            "manage.py",
            "A-1",
            "+40721000123/",
            "RON",
        ],
        ["0721", "No", UNLIMITED, UNLIMITED, "manage.py", None, "0721/None", "RON"],
    ]
    assert column_values(columns, fields)([]) == [[] for _ in columns]


def test_the_exports_package_imports_no_domain_app():
    """exports/ is the bottom of the export code: the domain exporters inject what it needs."""
    root = Path(__file__).resolve().parents[2] / "exports"
    domain = {"callback", "callerids", "credit", "notifications", "tenancy", "api"}
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in domain]
    assert found == []


def test_the_money_constants_are_the_money_modules():
    from exports import cells
    from values import money

    assert (cells.FOUR_PLACES, cells.UNLIMITED_TEXT) == (money.FOUR_PLACES, money.UNLIMITED)
