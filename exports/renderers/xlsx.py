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
from xml.sax.saxutils import quoteattr

from exports.cells import (
    DATE,
    DATETIME,
    EMPTY,
    MONEY,
    NUMBER,
    PLAIN,
    PROTECTED,
    Column,
    row_converter,
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


def datetime_serial(value: datetime.datetime) -> str:
    delta = value - _EXCEL_EPOCH
    serial = delta.days + Decimal(delta.seconds) / _SECONDS_PER_DAY
    return f"{serial.quantize(_SERIAL_PLACES):f}"


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


def _row_xml(row_number: int, letters: list[str], cells) -> str:
    parts = [f'<row r="{row_number}">']
    append = parts.append
    for letter, (kind, value) in zip(letters, cells, strict=True):
        if kind == EMPTY:
            continue
        ref = f"{letter}{row_number}"
        if kind == PLAIN:
            append(_inline_string(ref, value))
        elif kind == MONEY:
            append(f'<c r="{ref}" s="{_STYLE_MONEY}"><v>{value:f}</v></c>')
        elif kind == DATETIME:
            append(f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{datetime_serial(value)}</v></c>')
        elif kind == PROTECTED:
            append(_inline_string(ref, value, f' s="{_STYLE_PROTECTED}"'))
        elif kind == NUMBER:
            append(f'<c r="{ref}"><v>{value}</v></c>')
        elif kind == DATE:
            serial = (value - _EXCEL_EPOCH_DATE).days
            append(f'<c r="{ref}" s="{_STYLE_DATE}"><v>{serial}</v></c>')
        else:
            raise ValueError(f"Unknown cell kind {kind!r}")
    append("</row>")
    return "".join(parts)


def write_xlsx(columns: list[Column], rows, *, title: str, money_decimals: int) -> Iterator[bytes]:
    """The workbook for `rows` (tuples of values in the order of `columns`), chunk by chunk."""
    sink = _Sink()
    archive = zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    )
    archive.writestr("xl/styles.xml", styles_xml(money_decimals))
    # The first bytes go out before the query runs: the download starts at once.
    yield sink.take()

    convert = row_converter(columns)
    letters = [column_letters(i) for i in range(len(columns))]
    start = _sheet_start(columns)
    names = sheet_titles(title)
    titles: list[str] = []
    sheet = None
    row_number = 1  # the header is row 1
    pending: list[str] = []

    def flush_pending():
        sheet.write("".join(pending).encode("utf-8"))
        pending.clear()

    for row in rows:
        if sheet is None or row_number > MAX_ROWS_PER_SHEET:
            if sheet is not None:
                pending.append(_SHEET_END)
                flush_pending()
                sheet.close()
            titles.append(next(names))
            sheet = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
            pending.append(start)
            row_number = 1
        row_number += 1
        pending.append(_row_xml(row_number, letters, convert(row)))
        if len(pending) >= ROWS_PER_WRITE:
            flush_pending()
            if sink.size >= FLUSH_BYTES:
                yield sink.take()

    if sheet is None:  # no rows: one sheet with the header
        titles.append(next(names))
        sheet = archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w")
        pending.append(start)
    pending.append(_SHEET_END)
    flush_pending()
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
        from credit.selectors import get_preferences

        decimals = get_preferences().decimals
        return write_xlsx(
            exporter.columns(),
            exporter.rows(),
            title=exporter.sheet_title(),
            money_decimals=decimals,
        )
