"""The streaming XLSX writer: sheets split at the row limit, XML escaped, streamed early."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from exports.cells import DATE, DATETIME, INTEGER, MONEY, PHONE, TEXT, UNLIMITED, Column
from exports.renderers import xlsx
from exports.renderers.xlsx import column_letters, sheet_titles, write_xlsx

COLUMNS = [Column("Number", PHONE), Column("Amount", MONEY), Column("Note", TEXT)]


def workbook(rows, columns=COLUMNS, title="CallerIDs"):
    data = b"".join(write_xlsx(columns, iter(rows), title=title, money_decimals=2))
    return openpyxl.load_workbook(io.BytesIO(data)), data


def values(sheet):
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_rows_beyond_the_sheet_limit_continue_on_further_sheets_with_the_header(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS_PER_SHEET", 3)
    rows = [(f"+4072100000{i}", Decimal(i), f"row {i}") for i in range(7)]

    book, _ = workbook(rows)

    assert book.sheetnames == ["CallerIDs", "CallerIDs (2)", "CallerIDs (3)"]
    header = ["Number", "Amount", "Note"]
    got = [values(sheet) for sheet in book.worksheets]
    assert [sheet[0] for sheet in got] == [header] * 3
    assert [len(sheet) - 1 for sheet in got] == [3, 3, 1]
    assert [row[2] for sheet in got for row in sheet[1:]] == [f"row {i}" for i in range(7)]
    assert all(sheet.freeze_panes == "A2" for sheet in book.worksheets)


def test_an_empty_export_is_one_sheet_with_the_header():
    book, _ = workbook([])

    assert values(book.worksheets[0]) == [["Number", "Amount", "Note"]]


def test_text_is_escaped_and_characters_illegal_in_xml_are_dropped():
    note = 'a & b < c > d "e" \x00\x01\x08\x0b\x0c\x1f\ufffe end\r\nnext '
    book, _ = workbook([("123", Decimal("1"), note)])

    assert book.worksheets[0]["C2"].value == 'a & b < c > d "e"  end\r\nnext '


def test_sheet_titles_are_safe_and_short():
    titles = sheet_titles("History [a]:b*c?d/e\\f and a very long tail indeed")

    first, second = next(titles), next(titles)
    assert first == "History  a  b c d e f and a ver"
    assert len(first) <= 31 and len(second) <= 31 and second.endswith(" (2)")


def test_dates_integers_and_unlimited():
    columns = [
        Column("Day", DATE),
        Column("At", DATETIME),
        Column("N", INTEGER),
        Column("Credit", MONEY),
    ]
    at = datetime.datetime(2026, 3, 29, 1, 59, 59, tzinfo=datetime.UTC)

    book, _ = workbook([(datetime.date(1999, 12, 31), at, 42, UNLIMITED)], columns=columns)

    day, moment, number, credit = values(book.worksheets[0])[1]
    assert day == datetime.datetime(1999, 12, 31)
    assert moment == datetime.datetime(2026, 3, 29, 4, 59, 59)  # Bucharest, summer time
    assert number == 42
    assert credit == "Unlimited"


def test_the_first_bytes_come_before_the_rows_are_read():
    def rows():
        raise AssertionError("rows read too early")
        yield

    stream = write_xlsx(COLUMNS, rows(), title="X", money_decimals=2)

    assert next(stream).startswith(b"PK\x03\x04")
    with pytest.raises(AssertionError):
        next(stream)


def test_package_parts_are_all_there():
    _, data = workbook([("123", Decimal("1"), "x")])

    assert set(zipfile.ZipFile(io.BytesIO(data)).namelist()) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    }


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ")])
def test_column_letters(index, letters):
    assert column_letters(index) == letters


@pytest.mark.parametrize("days", [-700, -1, 0, 1, 46352])
def test_date_time_serials_are_the_exact_decimal_ones_rounded_half_even(days):
    places = Decimal("0.0000000001")
    for seconds in range(86400):
        exact = (days + Decimal(seconds) / Decimal(86400)).quantize(places)
        assert xlsx._serial(days, seconds) == f"{exact:f}"
