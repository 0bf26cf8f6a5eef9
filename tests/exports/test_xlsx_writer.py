"""The streaming XLSX writer: sheets split at the row limit, XML escaped, streamed early."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import python_calamine

from exports.cells import (
    DATE,
    DATETIME,
    EMPTY,
    INTEGER,
    MONEY,
    NUMBER,
    PHONE,
    PLAIN,
    PROTECTED,
    TEXT,
    UNLIMITED,
    Column,
    to_cell,
)
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


# --- Every cell is to_cell()'s, byte for byte (issue 17: the writer derives from it) -------

TRICKY_TEXTS = [
    "plain",
    "",
    "=1+1",
    "+12",
    "-5",
    "@x",
    "\tt",
    "\rr",
    " lead",
    "trail ",
    'a & b <c> "d"',
    "x\r\ny",
    "bad\x00\x1f\ufffe",
    "Unlimited",
    "Ünïcødé",
    5,
    True,
    None,
]
PHONES = ["+40721000123", "0721000123", "123", "12", "+12", "+12a", "=1", "", None, "+"]
AMOUNTS = [Decimal("0"), Decimal("-0"), Decimal("1.23456"), Decimal("-3.25"), UNLIMITED, None]
MOMENTS = [
    datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 1, 23, 59, 59),  # naive: already the server's time
    datetime.datetime(1850, 6, 1, 12, 0, 1),  # before Excel's epoch
    None,
]
DAYS = [datetime.date(1999, 12, 31), datetime.date(1850, 1, 1), None]
INTEGERS = [0, -5, 10**12, None]
ALL_KINDS = [
    Column("Text", TEXT),
    Column("Phone", PHONE),
    Column("Money", MONEY),
    Column("At", DATETIME),
    Column("Day", DATE),
    Column("N", INTEGER),
]


def tricky_rows(count):
    return [
        (
            TRICKY_TEXTS[i % len(TRICKY_TEXTS)],
            PHONES[(i * 3) % len(PHONES)],
            AMOUNTS[i % len(AMOUNTS)],
            MOMENTS[(i * 7) % len(MOMENTS)] + datetime.timedelta(seconds=i)
            if MOMENTS[(i * 7) % len(MOMENTS)]
            else None,
            DAYS[i % len(DAYS)],
            INTEGERS[i % len(INTEGERS)],
        )
        for i in range(count)
    ]


def reference_cell(ref: str, cell) -> str:
    """The XML of one cell written from to_cell()'s Cell by the simplest possible code."""
    if cell.kind == EMPTY:
        return ""
    if cell.kind in (PLAIN, PROTECTED):
        style = ' s="5"' if cell.kind == PROTECTED else ""
        text = cell.value
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{xlsx.xml_text(text)}</t></is></c>'
    if cell.kind == MONEY:
        return f'<c r="{ref}" s="2"><v>{cell.value:f}</v></c>'
    if cell.kind == NUMBER:
        return f'<c r="{ref}"><v>{cell.value}</v></c>'
    if cell.kind == DATETIME:
        value = cell.value
        days = (value.date() - datetime.date(1899, 12, 30)).days
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return f'<c r="{ref}" s="3"><v>{xlsx._serial(days, seconds)}</v></c>'
    assert cell.kind == DATE
    return f'<c r="{ref}" s="4"><v>{(cell.value - datetime.date(1899, 12, 30)).days}</v></c>'


def sheet_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_every_cell_is_written_as_to_cell_says_byte_for_byte():
    rows = tricky_rows(2500)  # several chunks: memories filled, then reused
    data = b"".join(write_xlsx(ALL_KINDS, iter(rows), title="T", money_decimals=2))

    expected = "".join(
        f'<row r="{n}">'
        + "".join(
            reference_cell(f"{column_letters(i)}{n}", to_cell(column.kind, value))
            for i, (column, value) in enumerate(zip(ALL_KINDS, row, strict=True))
        )
        + "</row>"
        for n, row in enumerate(rows, start=2)
    )
    xml = sheet_xml(data)
    body = xml[xml.index("</row>") + len("</row>") : xml.index("</sheetData>")]
    assert body == expected


def test_openpyxl_and_calamine_read_the_same_values():
    rows = tricky_rows(300)
    data = b"".join(write_xlsx(ALL_KINDS, iter(rows), title="T", money_decimals=2))

    book = openpyxl.load_workbook(io.BytesIO(data))
    by_openpyxl = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    by_calamine = (
        python_calamine.load_workbook(io.BytesIO(data))
        .get_sheet_by_index(0)
        .to_python(skip_empty_area=False)
    )

    def same(value):
        # calamine reads an empty cell as "" and a whole day with a date format as a date;
        # openpyxl as None and a datetime at midnight.
        if value == "":
            return None
        if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
            return value.date()
        return value

    assert len(by_openpyxl) == len(by_calamine) == len(rows) + 1
    assert by_openpyxl[1][1] == "+40721000123" and by_openpyxl[1][2] == 0
    for mine, theirs in zip(by_openpyxl, by_calamine, strict=True):
        # calamine cannot read serials before 1900 (negative): those cells are left out.
        kept = [not (hasattr(value, "year") and value.year < 1900) for value in mine]
        assert [same(v) for v, keep in zip(theirs, kept, strict=True) if keep] == [
            same(v) for v, keep in zip(mine, kept, strict=True) if keep
        ]


def test_invalid_values_are_refused_as_to_cell_refuses_them():
    for column, value in [
        (Column("M", MONEY), 1.5),
        (Column("N", INTEGER), True),
        (Column("N", INTEGER), "1"),
        (Column("D", DATE), datetime.datetime(2026, 1, 1)),
        (Column("T", DATETIME), datetime.date(2026, 1, 1)),
    ]:
        with pytest.raises(TypeError):
            to_cell(column.kind, value)
        with pytest.raises(TypeError):
            b"".join(write_xlsx([column], iter([(value,)]), title="T", money_decimals=2))
