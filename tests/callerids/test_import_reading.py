"""Reading import files (SPEC §5.2): CSV shapes, the header rule, XLSX cells, limits, safety."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from callerids.importing.reading import EMPTY_LINE, FileRefused, read_file


def read_csv(text: str | bytes, separator: str = ",", name: str = "numbers.csv"):
    content = text.encode() if isinstance(text, str) else text
    return read_file(content=content, file_name=name, separator=separator)


def xlsx(rows, *, second_sheet=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if second_sheet is not None:
        other = workbook.create_sheet("Other")
        for row in second_sheet:
            other.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def fields(line):
    return (line.number, line.pin, line.order, line.credit)


def test_it_reads_the_four_fields_in_order():
    result = read_csv("0721000123,1234,ORD-1,12.50\n")
    assert result.file_format == "csv"
    assert not result.header
    assert [fields(line) for line in result.lines] == [("0721000123", "1234", "ORD-1", "12.50")]
    assert result.lines[0].line == 1


def test_it_accepts_one_to_four_fields():
    result = read_csv("111\n222,1234\n333,1234,O\n")
    assert [fields(line) for line in result.lines] == [
        ("111", "", "", ""),
        ("222", "1234", "", ""),
        ("333", "1234", "O", ""),
    ]


def test_it_refuses_a_line_with_more_than_four_fields():
    result = read_csv("111,1234,O,5,extra\n")
    assert "Too many fields (5)" in result.lines[0].problem


def test_empty_fields_after_the_fourth_do_not_count():
    result = read_csv("111,1234,O,5,,\n")
    assert result.lines[0].problem == ""


def test_it_uses_the_chosen_separator():
    result = read_csv("0721000123;1234;ORD 1;2.5\n", separator=";")
    assert fields(result.lines[0]) == ("0721000123", "1234", "ORD 1", "2.5")


def test_a_quoted_field_may_contain_the_separator():
    result = read_csv('111,1234,"A,B",1\n')
    assert result.lines[0].order == "A,B"


def test_it_accepts_a_bom_and_crlf_and_blank_trailing_lines():
    result = read_csv(b"\xef\xbb\xbf111,1234\r\n222,5678\r\n\r\n\r\n")
    assert [line.number for line in result.lines] == ["111", "222"]
    assert [line.line for line in result.lines] == [1, 2]


def test_a_blank_line_in_the_middle_is_a_bad_line():
    result = read_csv("111\n\n222\n")
    assert [(line.line, line.problem) for line in result.lines] == [
        (1, ""),
        (2, EMPTY_LINE),
        (3, ""),
    ]


def test_line_numbers_follow_the_file_when_a_quoted_field_spans_lines():
    result = read_csv('111,1234,"two\nlines",1\n222\n')
    assert [line.line for line in result.lines] == [1, 3]


@pytest.mark.parametrize(
    "header",
    [
        "callback number,pin,order number,initial credit",
        "CallerID,PIN,Order,Credit",
        "NUMBER , Pin",
        "Callback  Number,PIN,ORDER NUMBER,INITIAL CREDIT",
    ],
)
def test_line_1_is_a_header_when_every_field_is_a_known_column_name(header):
    result = read_csv(f"{header}\n111,1234\n")
    assert result.header
    assert [line.line for line in result.lines] == [2]
    assert result.lines[0].number == "111"


@pytest.mark.parametrize("first", ["number,pin,notes", "111,pin", "numbers"])
def test_line_1_is_data_when_a_field_is_not_a_column_name(first):
    result = read_csv(f"{first}\n222\n")
    assert not result.header
    assert result.lines[0].line == 1


def test_a_header_line_later_in_the_file_is_data():
    result = read_csv("111\nnumber,pin\n")
    assert not result.header
    assert result.lines[1].number == "number"


def test_the_header_says_which_column_is_which():
    result = read_csv("credit,pin,number\n5,1234,111\n")
    assert fields(result.lines[0]) == ("111", "1234", "", "5")


def test_a_header_naming_a_column_twice_is_refused():
    with pytest.raises(FileRefused, match="names the callback number column twice"):
        read_csv("number,callerid\n111,222\n")


def test_a_header_without_the_number_column_is_refused():
    with pytest.raises(FileRefused, match="no callback number column"):
        read_csv("pin,credit\n1234,5\n")


def test_a_file_that_is_not_utf8_is_refused_with_the_line():
    with pytest.raises(FileRefused, match=r"not UTF-8 text \(line 2\)"):
        read_csv("111\n222,Ordér\n".encode("latin-1"))


def test_a_utf16_file_is_refused():
    with pytest.raises(FileRefused, match="UTF-16"):
        read_csv("111\n".encode("utf-16"))


def test_a_file_with_a_nul_byte_is_refused():
    with pytest.raises(FileRefused, match="line 2 has a NUL"):
        read_csv(b"111\n2\x0022\n")


def test_an_empty_file_is_refused():
    with pytest.raises(FileRefused, match="empty"):
        read_csv("\n\n")


def test_a_file_with_only_a_header_is_refused():
    with pytest.raises(FileRefused, match="no data lines"):
        read_csv("number,pin\n\n")


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_BYTES = 20
    read_csv("1" * 19 + "\n")
    with pytest.raises(FileRefused, match="larger than 20 bytes"):
        read_csv("1" * 20 + "\n")


def test_a_file_over_the_line_limit_is_refused(settings):
    settings.IMPORT_MAX_LINES = 3
    assert len(read_csv("number\n111\n222\n333\n\n\n").lines) == 3
    with pytest.raises(FileRefused, match="more than 3 data lines"):
        read_csv("111\n222\n333\n444\n")


def test_an_old_xls_file_is_refused():
    with pytest.raises(FileRefused, match=r"\.xls"):
        read_csv(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, name="old.xls")


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused():
    with pytest.raises(FileRefused, match="not a valid XLSX"):
        read_csv("111\n", name="numbers.xlsx")


# --- XLSX -------------------------------------------------------------------------------


def read_xlsx(content: bytes):
    return read_file(content=content, file_name="numbers.xlsx", separator=",")


def test_xlsx_numeric_cells_become_whole_numbers_written_in_full():
    result = read_xlsx(
        xlsx([[40721000123, 1234, 5550001, 10], [40721000124.0, "0012", "A-1", 2.5]])
    )
    assert result.file_format == "xlsx"
    assert fields(result.lines[0]) == ("40721000123", "1234", "5550001", "10")
    assert fields(result.lines[1]) == ("40721000124", "0012", "A-1", "2.5")
    assert result.lines[0].pin_numeric and not result.lines[1].pin_numeric


def test_xlsx_pin_from_a_numeric_cell_is_marked():
    result = read_xlsx(xlsx([["0721000123", 123]]))
    assert result.lines[0].pin == "123"
    assert result.lines[0].pin_numeric


def test_xlsx_reads_the_first_sheet_only():
    result = read_xlsx(xlsx([["111"]], second_sheet=[["222"], ["333"]]))
    assert [line.number for line in result.lines] == ["111"]


def test_xlsx_header_and_row_numbers():
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "Callback number", "PIN"
    sheet["A2"] = "111"
    sheet["A4"] = "444"
    out = io.BytesIO()
    workbook.save(out)
    result = read_xlsx(out.getvalue())
    assert result.header
    assert [(line.line, line.number, line.problem) for line in result.lines] == [
        (2, "111", ""),
        (3, "", EMPTY_LINE),
        (4, "444", ""),
    ]


def rewrite_member(content: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == name:
                data = change(data)
            target.writestr(item.filename, data)
    return out.getvalue()


def test_xlsx_with_a_dtd_is_refused():
    entity = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    )
    content = rewrite_member(
        xlsx([["111"]]),
        "xl/worksheets/sheet1.xml",
        lambda data: entity + data,
    )
    with pytest.raises(FileRefused, match="DTD"):
        read_xlsx(content)


def test_xlsx_with_a_utf16_xml_part_is_refused():
    content = rewrite_member(
        xlsx([["111"]]),
        "xl/worksheets/sheet1.xml",
        lambda data: data.decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    )
    with pytest.raises(FileRefused, match="not UTF-8"):
        read_xlsx(content)


def test_xlsx_that_unpacks_beyond_the_cap_is_refused(settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 2000
    with pytest.raises(FileRefused, match="unpacks to more than 2,000 bytes"):
        read_xlsx(xlsx([["111"]]))


def test_a_damaged_xlsx_is_refused():
    content = xlsx([["111"]])
    with pytest.raises(FileRefused):
        read_xlsx(content[: len(content) // 2])


# --- XLSX through python-calamine (issue 21) ---------------------------------------------


def test_xlsx_cells_far_from_the_list_are_refused_before_calamine_reads_them():
    # calamine would hold the whole rectangle A1:XFD1048576 in memory (17 billion cells).
    workbook = Workbook()
    workbook.active["A1"] = "111"
    workbook.active["XFD1048576"] = "far away"
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(FileRefused, match="spans 1,048,576 rows and 16,384 columns"):
        read_xlsx(out.getvalue())


def test_xlsx_cells_without_references_are_bounded_and_read_in_place():
    import re

    content = rewrite_member(
        xlsx([["111", 1234], ["222"]]),
        "xl/worksheets/sheet1.xml",
        lambda data: re.sub(rb' r="[A-Z0-9]+"', b"", data),
    )
    result = read_xlsx(content)
    assert [(line.line, fields(line)) for line in result.lines] == [
        (1, ("111", "1234", "", "")),
        (2, ("222", "", "", "")),
    ]


def test_xlsx_list_starting_further_in_keeps_the_sheets_line_numbers():
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = 40721000123, "0012"
    sheet["A4"] = "0721000124"
    out = io.BytesIO()
    workbook.save(out)
    result = read_xlsx(out.getvalue())
    # Lines 1 and 2 are empty (bad lines, as in a CSV), then column A is empty on line 3:
    # the lines as the sheet shows them.
    assert [(line.line, fields(line), line.problem) for line in result.lines] == [
        (1, ("", "", "", ""), EMPTY_LINE),
        (2, ("", "", "", ""), EMPTY_LINE),
        (3, ("", "40721000123", "0012", ""), ""),
        (4, ("0721000124", "", "", ""), ""),
    ]


def test_xlsx_large_and_decimal_numbers_and_dates_keep_their_digits():
    import datetime

    result = read_xlsx(xlsx([[999999999999999, 0.1, 1e15, datetime.datetime(2026, 1, 2, 3, 4, 5)]]))
    assert fields(result.lines[0]) == (
        "999999999999999",
        "0.1",
        "1000000000000000",
        "2026-01-02 03:04:05",
    )


def test_calamine_itself_expands_no_external_entity(monkeypatch):
    """What calamine does without our DTD check: the entity is never read from the file
    system (it refuses the file or leaves the reference as it is)."""
    from callerids.importing import reading

    monkeypatch.setattr(reading, "_check_xlsx_zip", lambda content: None)
    doctype = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    content = rewrite_member(
        xlsx([["placeholder"]]),
        "xl/worksheets/sheet1.xml",
        lambda data: doctype + data.replace(b"placeholder", b"&e;"),
    )
    assert b"&e;" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    try:
        result = read_xlsx(content)
    except FileRefused:
        return
    assert all("root:" not in fields(line)[0] for line in result.lines)
