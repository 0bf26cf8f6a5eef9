"""Reading an import file into raw lines (SPEC §5.2).

CSV: UTF-8 (a byte-order mark is accepted), `\\n` or `\\r\\n`, a chosen field separator.
XLSX: the first sheet only, read with openpyxl in read-only mode after checking the zip:
a cap on the total unpacked size and no DTD anywhere (so no external or nested entities).
Numeric cells become whole numbers written out in full (40721000123, never 4.07E+10).

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

from callback.errors import DomainError

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
_DTD_RE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
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
    return getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", 10 * settings.IMPORT_MAX_BYTES)


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


def _scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    try:
        with archive.open(member) as stream:
            head = stream.read(4)
            # A DTD in UTF-16 would hide from a byte search: XLSX parts are UTF-8.
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
                if member.filename.endswith((".xml", ".rels")):
                    raise FileRefused("This XLSX file has XML parts that are not UTF-8.")
                return
            tail = head
            while True:
                chunk = stream.read(_SCAN_CHUNK)
                window = tail + chunk
                if _DTD_RE.search(window):
                    raise FileRefused(
                        "This XLSX file contains a DTD (<!DOCTYPE>), which is not allowed. "
                        "Save it again from your spreadsheet, or as CSV."
                    )
                if not chunk:
                    return
                tail = window[-16:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise FileRefused(
            "This XLSX file is damaged: save it again from your spreadsheet."
        ) from None


def _cell_text(value) -> tuple[str, bool]:
    """A cell as text, and whether it was a number (so a lost leading zero can be told)."""
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
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file; all mean "cannot read"
        raise FileRefused(
            "This XLSX file cannot be read: save it again from your spreadsheet."
        ) from None
    try:
        if not workbook.worksheets:
            raise FileRefused("This XLSX file has no sheet.")
        sheet = workbook.worksheets[0]
        try:
            # Explicit bounds: without them openpyxl reads the whole sheet once more to size
            # it when the file has no <dimension>. Read-only mode yields empty rows for
            # gaps, so the count is the row number.
            rows = sheet.iter_rows(max_row=XLSX_MAX_ROW, max_col=XLSX_MAX_COLUMN, values_only=True)
            for number, row in enumerate(rows, start=1):
                texts = [_cell_text(value) for value in row]
                yield number, [text for text, _ in texts], [numeric for _, numeric in texts]
        except FileRefused:
            raise
        except Exception:  # a damaged sheet part; openpyxl raises many kinds
            raise FileRefused(
                "This XLSX file cannot be read: save it again from your spreadsheet."
            ) from None
    finally:
        workbook.close()


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
