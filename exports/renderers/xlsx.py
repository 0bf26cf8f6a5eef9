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
from itertools import islice
from xml.sax.saxutils import quoteattr

from django.utils import timezone

from exports.cells import (
    DATE,
    DATETIME,
    FORMULA_STARTS,
    INTEGER,
    MONEY,
    PHONE,
    PHONE_RE,
    TEXT,
    UNLIMITED,
    Column,
)
from exports.exporters import Exporter
from values.money import FOUR_PLACES
from values.money import UNLIMITED as UNLIMITED_TEXT

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
_NEEDS_WORK = re.compile(
    '^\\s|\\s\\Z|[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]'
).search


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


# The XML of a cell is `<c r="B7"` + its tail. Writers return the tail of a value, by the
# column's kind, following to_cell()'s rules (tests/exports check them cell by cell).
# Tails of few distinct texts (statuses, Yes/No, the currency) are remembered; a column of
# distinct texts (numbers) stops filling its memory at _TEXT_MEMORY.
_TEXT_MEMORY = 512


def _text_tail(text_of, memory: dict):
    """Text: an inline string (never run); formula-looking text with the quote prefix.
    `text_of(value)` -> (text, protected) is to_cell's decision for the column's kind."""

    def tail(value) -> str:
        text, protected = text_of(value)
        style = f' s="{_STYLE_PROTECTED}"' if protected else ""
        space = ""
        if _NEEDS_WORK(text) is not None:
            space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
            text = xml_text(text)
        cell = f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        # Only str keys: True == 1 would otherwise share a tail.
        if type(value) is str and len(memory) < _TEXT_MEMORY:
            memory[value] = cell
        return cell

    return tail


def _text_of(value) -> tuple[str, bool]:
    text = value if type(value) is str else str(value)
    return text, text.startswith(FORMULA_STARTS)


def _phone_of(value) -> tuple[str, bool]:
    text = value if type(value) is str else str(value)
    if _PHONE_MATCH(text):
        return text, False
    return text, text.startswith(FORMULA_STARTS)


# to_cell(MONEY, UNLIMITED) is the text Unlimited.
_UNLIMITED_TAIL = _text_tail(_text_of, {})(UNLIMITED_TEXT)


def _money_tail(value) -> str:
    if value is UNLIMITED:
        return _UNLIMITED_TAIL
    if not isinstance(value, Decimal):
        raise TypeError(f"A money column takes Decimal or UNLIMITED, not {type(value).__name__}")
    # Adding zero turns a negative zero (-0.0000) into 0.0000.
    return f' s="{_STYLE_MONEY}"><v>{value.quantize(FOUR_PLACES) + _ZERO:f}</v></c>'


def _datetime_tail(zone):
    epoch = _EXCEL_EPOCH.toordinal()

    def tail(value) -> str:
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"A datetime column takes datetime, not {type(value).__name__}")
        if value.tzinfo is not None:
            # The server's zone (settings.TIME_ZONE), not a zone activated for one request.
            value = value.astimezone(zone)
        # Whole seconds: what the page shows, and what both formats can hold exactly.
        days = value.toordinal() - epoch
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return f' s="{_STYLE_DATETIME}"><v>{_serial(days, seconds)}</v></c>'

    return tail


def _date_tail(value) -> str:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"A date column takes date, not {type(value).__name__}")
    return f' s="{_STYLE_DATE}"><v>{(value - _EXCEL_EPOCH_DATE).days}</v></c>'


def _integer_tail(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"An integer column takes int, not {type(value).__name__}")
    return f"><v>{value}</v></c>"


def row_writer(columns: list[Column]):
    """`write(row, row_number) -> XML` of one row, generated for the columns (like
    namedtuple): one function call per row instead of layers of calls per cell. An empty
    value (None) writes no cell."""
    namespace: dict = {}
    lines = []
    for i, column in enumerate(columns):
        ref = f'<c r="{column_letters(i)}{{n}}"'
        if column.kind in (TEXT, PHONE):
            memory: dict = {}
            text_of = _text_of if column.kind == TEXT else _phone_of
            namespace[f"m{i}"], namespace[f"t{i}"] = memory, _text_tail(text_of, memory)
            tail = f"(m{i}.get(v{i}) or t{i}(v{i}))"
        elif column.kind in _TAILS:
            namespace[f"t{i}"] = _TAILS[column.kind]
            tail = f"t{i}(v{i})"
        elif column.kind == DATETIME:
            namespace[f"t{i}"] = _datetime_tail(timezone.get_default_timezone())
            tail = f"t{i}(v{i})"
        else:
            raise ValueError(f"Unknown column kind {column.kind!r}")
        lines.append(f"    c{i} = '' if v{i} is None else f'{ref}' + {tail}\n")
    values = "".join(f"v{i}, " for i in range(len(columns)))
    cells = "".join(f"{{c{i}}}" for i in range(len(columns)))
    source = (
        f"def write(row, n):\n    {values}= row\n{''.join(lines)}"
        f"    return f'<row r=\"{{n}}\">{cells}</row>'\n"
    )
    exec(source, namespace)  # noqa: S102 - generated from the columns' kinds only
    return namespace["write"]


_TAILS = {MONEY: _money_tail, DATE: _date_tail, INTEGER: _integer_tail}


def _rows_xml(write_row, rows, first_row_number: int) -> str:
    """The XML of consecutive rows numbered from first_row_number, as one string."""
    return "".join([write_row(row, n) for n, row in enumerate(rows, first_row_number)])


def write_xlsx(columns: list[Column], rows, *, title: str, money_decimals: int) -> Iterator[bytes]:
    """The workbook for `rows` (tuples of values in the order of `columns`), chunk by chunk."""
    sink = _Sink()
    archive = zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    )
    archive.writestr("xl/styles.xml", styles_xml(money_decimals))
    # The first bytes go out before the query runs: the download starts at once.
    yield sink.take()

    write_row = row_writer(columns)
    start = _sheet_start(columns).encode("utf-8")
    end = _SHEET_END.encode("utf-8")
    names = sheet_titles(title)
    titles: list[str] = []
    sheet = None
    in_sheet = 0  # data rows in the current sheet
    rows = iter(rows)
    while True:
        room = MAX_ROWS_PER_SHEET - in_sheet if sheet is not None else 0
        batch = list(islice(rows, min(ROWS_PER_WRITE, room or MAX_ROWS_PER_SHEET)))
        if not batch:
            break
        if not room:  # the first sheet, or the current one is full
            if sheet is not None:
                sheet.write(end)
                sheet.close()
            titles.append(next(names))
            sheet = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
            sheet.write(start)
            in_sheet = 0
        # The header is row 1.
        sheet.write(_rows_xml(write_row, batch, in_sheet + 2).encode("utf-8"))
        in_sheet += len(batch)
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
        decimals = exporter.money_decimals()
        return write_xlsx(
            exporter.columns(),
            exporter.rows(),
            title=exporter.sheet_title(),
            money_decimals=decimals,
        )
