"""Reading an import file into raw lines (SPEC §5.2).

CSV: UTF-8 (a byte-order mark is accepted), `\\n` or `\\r\\n`, a chosen field separator.
XLSX: the first sheet only, read with python-calamine (a Rust reader; quick-xml, which
never loads a DTD or an external entity) after our own checks of the zip: a cap on the
total unpacked size, no DTD anywhere (so no external or nested entities), and a cap on the
area the sheet's cells span (calamine holds that whole rectangle in memory: one cell at A1
and one at XFD1048576 would ask for 17 billion cells). Numeric cells become whole numbers
written out in full (40721000123, never 4.07E+10).

Line 1 is a header only when every field is a known column name; the header then says
which column is which. Blank lines at the end are ignored (trailing empty rows, formatted
cells far below the data, end the data); a run of blank lines in the middle is one bad line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from python_calamine import CalamineWorkbook

from values.errors import DomainError

COLUMNS = ("number", "pin", "order", "credit")
COLUMN_NAMES = {
    "callback number": "number",
    "callerid": "number",
    "number": "number",
    "pin": "pin",
    "order number": "order",
    "order": "order",
    "initial credit": "credit",
    "credit": "credit",
}
SEPARATORS = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab", "|": "Vertical bar (|)"}

# An XLSX file is a zip of XML parts; these bound what reading it may cost.
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_ROW = 1_048_576  # the most rows a sheet can have
XLSX_MAX_COLUMN = 16  # a line has 4 fields; more columns only make "too many fields"
# Cells the rectangle from A1 to the sheet's last used cell may hold (calamine keeps it
# whole in memory, about 32 bytes a cell): 100,000 lines of 4 fields use 400,000.
XLSX_MAX_AREA = 4_000_000
_DTD_RE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
_SHEET_RE = re.compile(r"xl/worksheets/[^/]+\.xml")
# Where cells and rows are: <c r="AB12" ...>, <row r="12" ...> (no other element of a sheet
# has an attribute r="..."); and how many there are (one without r= takes the next position).
_COLUMN_REF_RE = re.compile(rb'\sr="([A-Z]{1,3})[0-9]')
_ROW_NUMBER_RE = re.compile(rb'\sr="[A-Z]{0,3}([0-9]{1,7})"')
_ROW_REF_RE = re.compile(rb'\sr="[0-9]')  # a row's own r= (a cell's starts with letters)
_CELL_RE = re.compile(rb"<c[\s/>]")
_ROW_RE = re.compile(rb"<row[\s/>]")
_SCAN_CHUNK = 1 << 20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EMPTY_LINE = "Empty line: remove it."


def empty_lines(first: int, count: int) -> str:
    """The reason of a run of blank lines followed by data: one bad line for the whole run."""
    if count == 1:
        return EMPTY_LINE
    last = first + count - 1
    return f"Empty lines {first:,} to {last:,} ({count:,} lines): remove them."


class FileRefused(DomainError):
    """The whole file cannot be read; the message says why and what to do."""


@dataclass(slots=True)
class RawLine:
    """One data line as found in the file. `problem` is set for a line that has no shape
    (empty, too many fields); `pin_numeric` when the PIN came from a numeric XLSX cell."""

    line: int
    number: str = ""
    pin: str = ""
    order: str = ""
    credit: str = ""
    pin_numeric: bool = False
    problem: str = ""


@dataclass
class ReadResult:
    file_format: str  # "csv" or "xlsx"
    header: bool
    lines: list[RawLine]


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_lines() -> int:
    return settings.IMPORT_MAX_LINES


def max_unpacked_bytes() -> int:
    """Cap on the unpacked size of an XLSX file: its parts are XML, about 10x the zip."""
    return settings.IMPORT_MAX_UNPACKED_BYTES


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def read_file(*, content: bytes, file_name: str, separator: str = ",") -> ReadResult:
    """The raw data lines of an uploaded file; FileRefused when the file cannot be used."""
    if len(content) > max_bytes():
        raise FileRefused(
            f"The file is larger than {_megabytes(max_bytes())}. Split it into smaller files."
        )
    if not content.strip():
        raise FileRefused("The file is empty.")
    name = file_name.lower()
    if content.startswith(b"PK\x03\x04"):
        file_format, records = "xlsx", _xlsx_records(content)
    elif content.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise FileRefused("Old Excel files (.xls) are not supported: save it as .xlsx or CSV.")
    elif name.endswith(".xlsx"):
        raise FileRefused("This is not a valid XLSX file: save it again from your spreadsheet.")
    else:
        if separator not in SEPARATORS:
            raise FileRefused("Choose a field separator from the list.")
        file_format, records = "csv", _csv_records(content, separator)
    header, lines = _lines(records)
    return ReadResult(file_format=file_format, header=header, lines=lines)


# --- records: (line number, cells, which cells were numeric) ------------------------------


def _csv_records(content: bytes, separator: str):
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused("The file is UTF-16 text: save it as CSV UTF-8.")
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"The file is not UTF-8 text (line {line}): save it as CSV UTF-8."
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise FileRefused(f"This is not a text file (line {line} has a NUL character).")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    start = 1
    try:
        for cells in reader:
            yield start, cells, None
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"Line {start} cannot be read: {exc}.") from None


def _check_xlsx_zip(content: bytes) -> None:
    """Refuse zip bombs and XML with a DTD before any XML parser sees the file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused(
            "This is not a valid XLSX file: save it again from your spreadsheet."
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > XLSX_MAX_MEMBERS:
            raise FileRefused("This XLSX file has too many parts to be a simple list.")
        # zipfile never yields more than the size a member declares, so the sum is a bound.
        if sum(member.file_size for member in members) > max_unpacked_bytes():
            raise FileRefused(
                f"This XLSX file unpacks to more than {_megabytes(max_unpacked_bytes())}. "
                "Save it as CSV, or split it."
            )
        for member in members:
            _scan_member(archive, member)


class _SheetExtent:
    """The largest row and column a worksheet part uses, from its cells' references (a
    bound when some have none: their count then stands for their positions)."""

    def __init__(self) -> None:
        self.max_row = self.max_column = 0
        self.cells = self.cells_with_ref = self.rows = self.rows_with_ref = 0

    def feed(self, data: bytes) -> None:
        # Sets first: the distinct columns are few, the distinct rows one per line.
        columns = _COLUMN_REF_RE.findall(data)
        self.cells_with_ref += len(columns)
        for column in set(columns):
            index = 0
            for letter in column:
                index = index * 26 + letter - 64
            self.max_column = max(self.max_column, index)
        rows = set(_ROW_NUMBER_RE.findall(data))
        if rows:
            self.max_row = max(self.max_row, max(map(int, rows)))
        self.rows_with_ref += len(_ROW_REF_RE.findall(data))
        self.cells += len(_CELL_RE.findall(data))
        self.rows += len(_ROW_RE.findall(data))

    def area(self) -> int:
        rows = self.max_row + (self.rows - self.rows_with_ref)
        columns = self.max_column + (self.cells - self.cells_with_ref)
        return rows * columns


def _feed_whole_tags(extent: _SheetExtent, data: bytes, *, final: bool) -> bytes:
    """Give the extent every tag of `data` read whole, exactly once; the bytes from the last
    '<' on wait for the next chunk (unless this is the end, or they are far too long to be
    one tag)."""
    cut = data.rfind(b"<")
    if final or cut < 0 or len(data) - cut > _SCAN_CHUNK:
        extent.feed(data)
        return b""
    extent.feed(data[:cut])
    return data[cut:]


def _scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    extent = _SheetExtent() if _SHEET_RE.fullmatch(member.filename) else None
    try:
        with archive.open(member) as stream:
            head = stream.read(4)
            # A DTD in UTF-16 would hide from a byte search: XLSX parts are UTF-8.
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
                if member.filename.endswith((".xml", ".rels")):
                    raise FileRefused("This XLSX file has XML parts that are not UTF-8.")
                return
            tail = head
            pending = head  # the sheet's bytes not yet given to the extent
            while True:
                chunk = stream.read(_SCAN_CHUNK)
                window = tail + chunk
                if _DTD_RE.search(window):
                    raise FileRefused(
                        "This XLSX file contains a DTD (<!DOCTYPE>), which is not allowed. "
                        "Save it again from your spreadsheet, or as CSV."
                    )
                if extent is not None:
                    pending = _feed_whole_tags(extent, pending + chunk, final=not chunk)
                if not chunk:
                    break
                tail = window[-16:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise FileRefused(
            "This XLSX file is damaged: save it again from your spreadsheet."
        ) from None
    if extent is not None and extent.area() > XLSX_MAX_AREA:
        raise FileRefused(
            f"A sheet of this XLSX file spans {extent.max_row:,} rows and "
            f"{extent.max_column:,} columns, more than a list of CallerIDs needs: delete "
            "the cells far from the list (or save it as CSV) and try again."
        )


def _cell_text(value) -> tuple[str, bool]:
    """A cell as text, and whether it was a number (so a lost leading zero can be told)."""
    if type(value) is str:  # the most frequent first
        return value, False
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value).upper(), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)), True  # written in full: 40721000123, not 4.07E+10
        return format(Decimal(repr(value)), "f"), True
    if isinstance(value, str):
        return value, False
    return str(value), False


def _xlsx_records(content: bytes):
    _check_xlsx_zip(content)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not workbook.sheet_names:
            raise FileRefused("This XLSX file has no sheet.")
        # Every row and column from A1 (not from the first used cell), so the line numbers
        # are the sheet's own and a list that starts in column B has an empty column A.
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False, nrows=XLSX_MAX_ROW)
        workbook.close()
    except FileRefused:
        raise
    except Exception:  # calamine raises several kinds for a damaged file: "cannot read"
        raise FileRefused(
            "This XLSX file cannot be read: save it again from your spreadsheet."
        ) from None
    for number, row in enumerate(rows, start=1):
        texts = [_cell_text(value) for value in row[:XLSX_MAX_COLUMN]]
        yield number, [text for text, _ in texts], [numeric for _, numeric in texts]


# --- lines ----------------------------------------------------------------------------


def _trimmed(cells: list[str]) -> list[str]:
    cells = [cell.strip() for cell in cells]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _header_columns(cells: list[str]) -> list[str] | None:
    """The columns named by line 1, or None when line 1 is data."""
    names = [" ".join(cell.split()).lower() for cell in cells]
    if not names or not all(name in COLUMN_NAMES for name in names):
        return None
    columns = [COLUMN_NAMES[name] for name in names]
    for column in COLUMNS:
        if columns.count(column) > 1:
            raise FileRefused(f"The header line names the {_label(column)} column twice.")
    if "number" not in columns:
        raise FileRefused("The header line has no callback number column.")
    return columns


def _label(column: str) -> str:
    return {
        "number": "callback number",
        "pin": "PIN",
        "order": "order number",
        "credit": "initial credit",
    }[column]


def _lines(records) -> tuple[bool, list[RawLine]]:
    limit = max_lines()
    columns = list(COLUMNS)
    header = False
    lines: list[RawLine] = []
    data_lines = 0
    # Blank lines are kept as (first line, how many) until a data line follows them: blank
    # lines at the end are accepted, and a file of blank lines costs no memory.
    blank_first, blank_count = 0, 0
    for number, cells, numeric in records:
        trimmed = _trimmed(cells)
        if number == 1 and not header:
            named = _header_columns(trimmed)
            if named is not None:
                columns, header = named, True
                continue
        if not trimmed:
            if not blank_count:
                blank_first = number
            blank_count += 1
            continue
        data_lines += 1 + blank_count
        if data_lines > limit:
            raise FileRefused(
                f"The file has more than {limit:,} data lines. Split it into smaller files."
            )
        if blank_count:
            # One bad line for the run: a stray cell at row 99,999 is one reason, not 99,997.
            lines.append(RawLine(line=blank_first, problem=empty_lines(blank_first, blank_count)))
            blank_count = 0
        lines.append(_raw_line(number, trimmed, numeric, columns))
    if not lines:
        raise FileRefused("The file has no data lines.")
    return header, lines


def _raw_line(number: int, cells: list[str], numeric, columns: list[str]) -> RawLine:
    if len(cells) > len(columns):
        return RawLine(
            line=number,
            number=cells[0],
            problem=f"Too many fields ({len(cells)}): a line has at most {len(columns)} "
            f"({', '.join(_label(column) for column in columns)}).",
        )
    raw = RawLine(line=number)
    for index, value in enumerate(cells):
        column = columns[index]
        if column == "number":
            raw.number = value
        elif column == "pin":
            raw.pin = value
            raw.pin_numeric = bool(numeric and numeric[index])
        elif column == "order":
            raw.order = value
        else:
            raw.credit = value
    return raw
