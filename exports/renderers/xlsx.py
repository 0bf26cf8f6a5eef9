"""XLSX: a streaming writer, sheet XML written directly and zipped on the fly (SPEC §8).

Why not openpyxl: even in write-only mode it builds each sheet in a temporary file and
only then zips the workbook, so nothing reaches the browser before the last row. Here
each sheet is written as it is produced, with inline strings (never shared strings,
which would have to be held in memory), into a zip on an unseekable stream (entries use
data descriptors); every compressed chunk is handed to the response as soon as it
exists. Memory stays flat whatever the row count and the download starts at once.

What the workbook holds:
- amounts: numbers with the exact 4-decimal value and a format showing the preferred
  decimals (credit preferences), so sums in Excel match the report;
- dates and times: serial numbers with a date format (already in the server time zone);
- text, phone numbers and Unlimited: inline strings, which a spreadsheet never runs;
  text that looks like a formula also gets the quote-prefix style (shown as text, kept as
  text when edited);
- a bold, frozen header row, repeated on every sheet; column widths; at most
  MAX_ROWS_PER_SHEET data rows per sheet, larger exports continue on further sheets.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterator, Mapping
from decimal import Decimal
from itertools import chain, islice, repeat
from xml.sax.saxutils import quoteattr

from django.utils import timezone

from exports.cells import (
    DATE,
    DATETIME,
    FORMULA_STARTS,
    FOUR_PLACES,
    INTEGER,
    MONEY,
    PHONE,
    PHONE_RE,
    TEXT,
    UNLIMITED,
    UNLIMITED_TEXT,
    Column,
)
from exports.exporters import Exporter

# Excel holds 1,048,576 rows per sheet: the header and this many data rows.
MAX_ROWS_PER_SHEET = 1_048_575
ROWS_PER_WRITE = 1000
FLUSH_BYTES = 64 * 1024
# Fast deflate: the download is bound by the CPU; level 1 costs ~15% in size.
COMPRESS_LEVEL = 1

# Style indexes in styles.xml's cellXfs.
_STYLE_HEADER = 1
_STYLE_MONEY = 2
_STYLE_DATETIME = 3
_STYLE_DATE = 4
_STYLE_PROTECTED = 5

_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
_ZERO = Decimal(0)
_PHONE_MATCH = PHONE_RE.match
_EXCEL_EPOCH_DATE = _EXCEL_EPOCH.date()
_SECONDS_PER_DAY = Decimal(86400)
_SERIAL_PLACES = Decimal("0.0000000001")  # ~9 microseconds: whole seconds survive exactly

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE, U+FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        # A parser turns a raw CR into LF; the character reference keeps it.
        "\r": "&#13;",
    }
)
_SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")


_NEEDS_ESCAPING = re.compile('[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
# Escaping, or xml:space="preserve" (\s is str.isspace()): one search for the common case.
_NEEDS_WORK_PATTERN = '^\\s|\\s\\Z|[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]'
_NEEDS_WORK = re.compile(_NEEDS_WORK_PATTERN).search


def xml_text(text: str) -> str:
    """Text made safe inside an XML element: escaped, characters illegal in XML 1.0 dropped."""
    if _NEEDS_ESCAPING.search(text) is None:
        return text  # most cells: nothing to do
    return _ILLEGAL_XML.sub("", text).translate(_ESCAPES)


def _inline_string(ref: str, text: str, style: str = "") -> str:
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _serial(days: int, seconds: int) -> str:
    """days + seconds / 86400 rounded half-even to 10 decimals, in integers: the digits
    Decimal would write (seconds / 86400 either ends within 7 decimals or repeats)."""
    if days < 0:
        serial = days + Decimal(seconds) / _SECONDS_PER_DAY
        return f"{serial.quantize(_SERIAL_PLACES):f}"
    tenths, remainder = divmod(seconds * 10**10, 86400)
    if remainder * 2 > 86400 or (remainder * 2 == 86400 and tenths % 2):
        tenths += 1
    return f"{days}.{tenths:010d}"


def money_format(decimals: int) -> str:
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def styles_xml(decimals: int) -> str:
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    return (
        f'{_XML_DECL}<styleSheet xmlns="{_NS_MAIN}">'
        '<numFmts count="3">'
        f'<numFmt numFmtId="164" formatCode={quoteattr(money_format(decimals))}/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>'
        '<numFmt numFmtId="166" formatCode="yyyy-mm-dd"/>'
        "</numFmts>"
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="6">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
        ' quotePrefix="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _sheet_start(columns: list[Column]) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{column.display_width}" customWidth="1"/>'
        for i, column in enumerate(columns, start=1)
    )
    header = "".join(
        _inline_string(f"{column_letters(i)}1", column.header, f' s="{_STYLE_HEADER}"')
        for i, column in enumerate(columns)
    )
    return (
        f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f'<sheetData><row r="1">{header}</row>'
    )


_SHEET_END = "</sheetData></worksheet>"


def sheet_titles(title: str):
    """Sheet names: the title, then "title (2)", ...; at most 31 characters, none of []:*?/\\."""
    base = _SHEET_TITLE_UNSAFE.sub(" ", title).strip()[:31] or "Export"
    yield base
    number = 2
    while True:
        suffix = f" ({number})"
        yield base[: 31 - len(suffix)] + suffix
        number += 1


def _package_parts(titles: list[str]) -> dict[str, str]:
    count = len(titles)
    sheets = "".join(
        f'<sheet name={quoteattr(title)} sheetId="{i}" r:id="rId{i}"/>'
        for i, title in enumerate(titles, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    return {
        "xl/workbook.xml": (
            f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">{sheet_rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "_rels/.rels": (
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "[Content_Types].xml": (
            f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
    }


class _Sink:
    """The zip's unseekable output: collects what zipfile writes until it is handed on."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks = []
        self.size = 0
        return data


# The XML of a cell is `<c r="B7"` + its tail. Each column is written a chunk of rows at a
# time by its kind's column writer (below), following to_cell()'s rules (tests/exports
# check them cell by cell): one list comprehension per column and chunk, where the common
# value costs no Python function call; anything unusual (None, Unlimited, text to escape,
# a wrong type) goes to the kind's `_slow` function, which applies the rule in full.
# Tails of few distinct texts (statuses, Yes/No, the currency) are remembered; a column of
# distinct texts (numbers) stops filling its memory at _TEXT_MEMORY.
_TEXT_MEMORY = 512

_PLAIN_TEXT = ' t="inlineStr"><is><t>'
_END_TEXT = "</t></is></c>"
# Text written as it is: nothing to escape, no space to preserve, no formula start.
_NEEDS_CARE = re.compile(f"^[{re.escape(''.join(FORMULA_STARTS))}]|{_NEEDS_WORK_PATTERN}").search


def _text_tail(text: str, protected: bool) -> str:
    """Text: an inline string (never run); formula-looking text with the quote prefix."""
    style = f' s="{_STYLE_PROTECTED}"' if protected else ""
    space = ""
    if _NEEDS_WORK(text) is not None:
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        text = xml_text(text)
    return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _text_column(letter: str, is_phone: bool):
    """TEXT (and PHONE) cells: to_cell's text rule; PHONE writes a valid number as it is."""
    ref = f'<c r="{letter}'
    memory: dict = {}
    remember = memory.get

    def tail_of(value) -> str:
        text = value if type(value) is str else str(value)
        if is_phone and _PHONE_MATCH(text):
            return _text_tail(text, False)
        return _text_tail(text, text.startswith(FORMULA_STARTS))

    def slow(value, n: str) -> str:
        return "" if value is None else f'{ref}{n}"{tail_of(value)}'

    def cells(values, numbers):
        if len(memory) < _TEXT_MEMORY:
            # The chunk's texts not seen yet, while there is room (only str keys: True == 1
            # would otherwise share a tail).
            for value in set(values).difference(memory):
                if type(value) is str and len(memory) < _TEXT_MEMORY:
                    memory[value] = tail_of(value)
        if is_phone:
            return [
                f'{ref}{n}"{tail}'
                if (tail := remember(v)) is not None
                else f'{ref}{n}"{_PLAIN_TEXT}{v}{_END_TEXT}'
                if type(v) is str and (_PHONE_MATCH(v) or not _NEEDS_CARE(v))
                else slow(v, n)
                for v, n in zip(values, numbers, strict=True)
            ]
        return [
            f'{ref}{n}"{tail}'
            if (tail := remember(v)) is not None
            else f'{ref}{n}"{_PLAIN_TEXT}{v}{_END_TEXT}'
            if type(v) is str and not _NEEDS_CARE(v)
            else slow(v, n)
            for v, n in zip(values, numbers, strict=True)
        ]

    return cells


def _money_column(letter: str):
    """MONEY: the exact 4-decimal number with the money format; Unlimited as text."""
    ref = f'<c r="{letter}'
    head = f' s="{_STYLE_MONEY}"><v>'
    unlimited = _text_tail(UNLIMITED_TEXT, False)  # to_cell(MONEY, UNLIMITED): the text

    def slow(value, n: str) -> str:
        if value is None:
            return ""
        if value is UNLIMITED:
            return f'{ref}{n}"{unlimited}'
        if not isinstance(value, Decimal):
            raise TypeError(
                f"A money column takes Decimal or UNLIMITED, not {type(value).__name__}"
            )
        return f'{ref}{n}"{head}{value.quantize(FOUR_PLACES) + _ZERO:f}</v></c>'

    def cells(values, numbers):
        # Adding zero turns a negative zero (-0.0000) into 0.0000.
        return [
            f'{ref}{n}"{head}{v.quantize(FOUR_PLACES) + _ZERO:f}</v></c>'
            if type(v) is Decimal
            else slow(v, n)
            for v, n in zip(values, numbers, strict=True)
        ]

    return cells


def _datetime_column(letter: str, zone):
    """DATETIME: a serial number in the server time zone, whole seconds, date-time format.

    The fast path writes _serial()'s digits for days >= 0: seconds * 10**10 / 86400 is
    never exactly half-way between two integers (86400 = 2**7 * 3**3 * 5**2 leaves a factor
    27 that 10**10 lacks), so rounding half up is rounding half-even."""
    ref = f'<c r="{letter}'
    head = f' s="{_STYLE_DATETIME}"><v>'
    epoch = _EXCEL_EPOCH.toordinal()

    def slow(value, n: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"A datetime column takes datetime, not {type(value).__name__}")
        if value.tzinfo is not None:
            # The server's zone (settings.TIME_ZONE), not a zone activated for one request.
            value = value.astimezone(zone)
        # Whole seconds: what the page shows, and what both formats can hold exactly.
        days = value.toordinal() - epoch
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return f'{ref}{n}"{head}{_serial(days, seconds)}</v></c>'

    def cells(values, numbers):
        local = [
            v.astimezone(zone) if type(v) is datetime.datetime and v.tzinfo is not None else v
            for v in values
        ]
        return [
            f'{ref}{n}"{head}{v.toordinal() - epoch}.'
            f"{((v.hour * 3600 + v.minute * 60 + v.second) * 10**10 + 43200) // 86400:010d}"
            "</v></c>"
            if type(v) is datetime.datetime and v.year >= 1900
            else slow(v, n)
            for v, n in zip(local, numbers, strict=True)
        ]

    return cells


def _date_column(letter: str):
    """DATE: a serial number with the date format."""
    ref = f'<c r="{letter}'
    head = f' s="{_STYLE_DATE}"><v>'

    def slow(value, n: str) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise TypeError(f"A date column takes date, not {type(value).__name__}")
        return f'{ref}{n}"{head}{(value - _EXCEL_EPOCH_DATE).days}</v></c>'

    def cells(values, numbers):
        return [
            f'{ref}{n}"{head}{(v - _EXCEL_EPOCH_DATE).days}</v></c>'
            if type(v) is datetime.date
            else slow(v, n)
            for v, n in zip(values, numbers, strict=True)
        ]

    return cells


def _integer_column(letter: str):
    """INTEGER: a number."""
    ref = f'<c r="{letter}'

    def slow(value, n: str) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"An integer column takes int, not {type(value).__name__}")
        return f'{ref}{n}"><v>{int(value)}</v></c>'

    def cells(values, numbers):
        return [
            f'{ref}{n}"><v>{v}</v></c>' if type(v) is int else slow(v, n)
            for v, n in zip(values, numbers, strict=True)
        ]

    return cells


def column_writers(columns: list[Column]) -> list:
    """One writer per column, chosen by its kind: `cells(values, row_numbers)` -> the XML of
    the column's cells for a chunk of rows ('' for an empty value: no cell)."""
    zone = timezone.get_default_timezone()
    by_kind = {
        TEXT: lambda letter: _text_column(letter, is_phone=False),
        PHONE: lambda letter: _text_column(letter, is_phone=True),
        MONEY: _money_column,
        DATETIME: lambda letter: _datetime_column(letter, zone),
        DATE: _date_column,
        INTEGER: _integer_column,
    }
    writers = []
    for i, column in enumerate(columns):
        if column.kind not in by_kind:
            raise ValueError(f"Unknown column kind {column.kind!r}")
        writers.append(by_kind[column.kind](column_letters(i)))
    return writers


def rows_xml(writers, columns_of_chunk: list, first_row_number: int) -> str:
    """The XML of a chunk of consecutive rows (one list of values per column), numbered from
    first_row_number, as one string."""
    count = len(columns_of_chunk[0]) if columns_of_chunk else 0
    numbers = [str(n) for n in range(first_row_number, first_row_number + count)]
    starts = [f'<row r="{n}">' for n in numbers]
    cells = [
        write(values, numbers) for write, values in zip(writers, columns_of_chunk, strict=True)
    ]
    return "".join(chain.from_iterable(zip(starts, *cells, repeat("</row>", count), strict=True)))


def _chunks_of(rows, size: int):
    """Rows (tuples in the order of the columns) as chunks of one list per column."""
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield [list(column) for column in zip(*batch, strict=True)]


def write_xlsx(columns: list[Column], rows, *, title: str, money_decimals: int) -> Iterator[bytes]:
    """The workbook for `rows` (tuples of values in the order of `columns`), chunk by chunk."""
    return write_xlsx_chunks(
        columns, _chunks_of(rows, ROWS_PER_WRITE), title=title, money_decimals=money_decimals
    )


def write_xlsx_chunks(
    columns: list[Column], chunks, *, title: str, money_decimals: int
) -> Iterator[bytes]:
    """The workbook for `chunks` (each a list of values per column, in the order of
    `columns`, as Exporter.column_chunks() gives them), chunk by chunk."""
    sink = _Sink()
    archive = zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    )
    archive.writestr("xl/styles.xml", styles_xml(money_decimals))
    # The first bytes go out before the query runs: the download starts at once.
    yield sink.take()

    writers = column_writers(columns)
    start = _sheet_start(columns).encode("utf-8")
    end = _SHEET_END.encode("utf-8")
    names = sheet_titles(title)
    titles: list[str] = []
    sheet = None
    in_sheet = 0  # data rows in the current sheet
    for chunk in chunks:
        while chunk and chunk[0]:
            if sheet is None or in_sheet >= MAX_ROWS_PER_SHEET:
                if sheet is not None:  # the current sheet is full
                    sheet.write(end)
                    sheet.close()
                titles.append(next(names))
                sheet = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
                sheet.write(start)
                in_sheet = 0
            room = MAX_ROWS_PER_SHEET - in_sheet
            part, chunk = [c[:room] for c in chunk], [c[room:] for c in chunk]
            # The header is row 1.
            sheet.write(rows_xml(writers, part, in_sheet + 2).encode("utf-8"))
            in_sheet += len(part[0])
            if sink.size >= FLUSH_BYTES:
                yield sink.take()

    if sheet is None:  # no rows: one sheet with the header
        titles.append(next(names))
        sheet = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
        sheet.write(start)
    sheet.write(end)
    sheet.close()
    for name, content in _package_parts(titles).items():
        archive.writestr(name, content)
    archive.close()
    yield sink.take()


class XlsxRenderer:
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    options: set[str] = set()

    def __init__(self, params: Mapping[str, str]):
        self.params = params

    def render(self, exporter: Exporter) -> Iterator[bytes]:
        return write_xlsx_chunks(
            exporter.columns(),
            exporter.column_chunks(),
            title=exporter.sheet_title(),
            money_decimals=exporter.money_decimals(),
        )
