"""Export of one extension's authorized CallerIDs (SPEC §4, §8), read back cell by cell."""

import io
import re
import zipfile
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from django.urls import reverse

from callerids.models import CallerIDStatus
from tenancy.models import ChargingPreferences
from tests.exports.helpers import (
    BOM,
    body,
    make_callerid,
    money,
    read_csv,
    read_xlsx,
    utc,
)

HEADER = [
    "Callback Number",
    "Status",
    "PIN",
    "Total Credit",
    "Available Credit",
    "Currency",
    "Created (Europe/Bucharest)",
]


@pytest.fixture
def preferences(db):
    return ChargingPreferences.objects.create(pk=1, currency="RON", decimals=2)


@pytest.fixture
def callerids(extension_a, extension_b, preferences):
    return {
        "pin": make_callerid(
            extension_a,
            "+40721000123",
            available="12.5",
            total="20",
            pin=True,
            at=utc(2026, 11, 26, 8, 30, 5, 123456),
        ),
        "locked": make_callerid(
            extension_a,
            "0721000999",
            available="0",
            total="5",
            status=CallerIDStatus.DISABLED,
            reason="locked",
            at=utc(2026, 7, 1, 21, 15),
        ),
        "formula": make_callerid(
            extension_a,
            "=1+1",
            available="1.2345",
            at=utc(2026, 2, 1),
        ),
        "unlimited": make_callerid(
            extension_a,
            "004031000000",
            unlimited=True,
            at=utc(2026, 1, 1),
        ),
        "removed": make_callerid(
            extension_a,
            "+40700000004",
            available="3",
            status=CallerIDStatus.REMOVED,
            at=utc(2026, 3, 1),
        ),
        "other_reseller": make_callerid(
            extension_b,
            "+40799999999",
            available="9",
            at=utc(2026, 3, 2),
        ),
    }


def export_url(file_format, **params):
    url = reverse("exports:download", args=["callerids", file_format])
    return f"{url}?{urlencode(params)}" if params else url


def test_csv_holds_the_searched_list_cell_by_cell(client_for, extension_a, callerids):
    response = client_for("reseller_a").get(export_url("csv", extension=extension_a.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert read_csv(body(response)) == [
        HEADER,
        ["+40721000123", "Enabled", "Yes", "20.0000", "12.5000", "RON", "2026-11-26 10:30:05"],
        ["0721000999", "Disabled (locked)", "No", "5.0000", "0.0000", "RON", "2026-07-02 00:15:00"],
        ["'=1+1", "Enabled", "No", "1.2345", "1.2345", "RON", "2026-02-01 02:00:00"],
        ["004031000000", "Enabled", "No", "Unlimited", "Unlimited", "RON", "2026-01-01 02:00:00"],
    ]


def test_csv_starts_with_a_byte_order_mark_and_ends_lines_with_crlf(
    client_for, extension_a, callerids
):
    data = body(client_for("reseller_a").get(export_url("csv", extension=extension_a.pk)))

    assert data.startswith(BOM)
    assert data.count(b"\r\n") == 5
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_semicolon_dialect_writes_comma_decimals(client_for, extension_a, callerids):
    response = client_for("reseller_a").get(
        export_url("csv", extension=extension_a.pk, dialect="semicolon")
    )

    rows = read_csv(body(response), delimiter=";")
    assert rows[0] == HEADER
    assert rows[1] == [
        "+40721000123",
        "Enabled",
        "Yes",
        "20,0000",
        "12,5000",
        "RON",
        "2026-11-26 10:30:05",
    ]
    assert rows[3][3:5] == ["1,2345", "1,2345"]


def test_unknown_csv_dialect_is_refused(client_for, extension_a, callerids):
    response = client_for("reseller_a").get(
        export_url("csv", extension=extension_a.pk, dialect="tab")
    )

    assert response.status_code == 400
    assert "dialect" in response.content.decode()


def test_xlsx_holds_the_same_cells_as_numbers_dates_and_text(client_for, extension_a, callerids):
    response = client_for("reseller_a").get(export_url("xlsx", extension=extension_a.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheets = read_xlsx(body(response))
    assert list(sheets) == ["Authorized CallerIDs"]
    rows = sheets["Authorized CallerIDs"]
    assert rows[0] == HEADER
    expected = [
        ["+40721000123", "Enabled", "Yes", "20.0000", "12.5000", "RON", (2026, 11, 26, 10, 30, 5)],
        ["0721000999", "Disabled (locked)", "No", "5.0000", "0.0000", "RON", (2026, 7, 2, 0, 15)],
        ["=1+1", "Enabled", "No", "1.2345", "1.2345", "RON", (2026, 2, 1, 2, 0)],
        ["004031000000", "Enabled", "No", "Unlimited", "Unlimited", "RON", (2026, 1, 1, 2, 0)],
    ]
    assert len(rows) == 1 + len(expected)
    for row, want in zip(rows[1:], expected, strict=True):
        assert row[:3] == want[:3]
        for got, amount in zip(row[3:5], want[3:5], strict=True):
            if amount == "Unlimited":
                assert got == "Unlimited"
            else:
                assert money(got) == Decimal(amount)
        assert row[5] == want[5]
        assert (
            row[6].year,
            row[6].month,
            row[6].day,
            row[6].hour,
            row[6].minute,
            row[6].second,
        ) == want[6] + (0,) * (6 - len(want[6]))


def test_xlsx_amounts_hold_the_exact_value_with_the_preferred_decimals_format(
    client_for, extension_a, callerids, preferences
):
    preferences.decimals = 3
    preferences.save()
    data = body(client_for("reseller_a").get(export_url("xlsx", extension=extension_a.pk)))

    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>1.2345</v>" in sheet_xml and "<v>12.5000</v>" in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["D4"].number_format == "#,##0.000"
    assert sheet["D4"].data_type == "n"
    assert sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_xlsx_writes_phone_numbers_and_formula_looking_text_as_text(
    client_for, extension_a, callerids
):
    data = body(client_for("reseller_a").get(export_url("xlsx", extension=extension_a.pk)))

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == "+40721000123" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "0721000999" and sheet["A3"].data_type == "s"
    # The invalid number "=1+1" is text, never a formula, and shown as text.
    assert sheet["A4"].value == "=1+1" and sheet["A4"].data_type == "s"
    assert sheet["A4"].quotePrefix
    assert not sheet["A2"].quotePrefix


def test_xlsx_header_is_bold_frozen_and_columns_have_widths(client_for, extension_a, callerids):
    data = body(client_for("reseller_a").get(export_url("xlsx", extension=extension_a.pk)))

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet.column_dimensions["A"].width >= 16
    assert sheet.column_dimensions["G"].width >= len("Created (Europe/Bucharest)")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_export_holds_a_pin_or_its_hash(client_for, extension_a, callerids, file_format):
    data = body(client_for("reseller_a").get(export_url(file_format, extension=extension_a.pk)))

    if file_format == "xlsx":
        archive = zipfile.ZipFile(io.BytesIO(data))
        data = b"".join(archive.read(name) for name in archive.namelist())
    assert b"f" * 16 not in data
    assert b"salt" not in data


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({"q": "0721"}, ["+40721000123", "0721000999"]),
        ({"q": "0721 000 9"}, ["0721000999"]),
        ({"status": "removed"}, ["+40700000004"]),
        ({"status": "disabled"}, ["0721000999"]),
        ({"credit": "unlimited"}, ["004031000000"]),
        ({"credit": "no_credit"}, ["0721000999"]),
        ({"credit": "has_credit"}, ["+40721000123", "'=1+1"]),
        ({"sort": "number"}, ["+40721000123", "004031000000", "0721000999", "'=1+1"]),
        ({"sort": "-number"}, ["'=1+1", "0721000999", "004031000000", "+40721000123"]),
        ({"sort": "available"}, ["0721000999", "'=1+1", "+40721000123", "004031000000"]),
        ({"sort": "-available"}, ["004031000000", "+40721000123", "'=1+1", "0721000999"]),
        ({"sort": "created", "q": "07"}, ["0721000999", "+40721000123"]),
    ],
)
def test_the_export_is_the_list_as_currently_searched(
    client_for, extension_a, callerids, params, numbers
):
    response = client_for("staff_a").get(export_url("csv", extension=extension_a.pk, **params))

    assert response.status_code == 200
    assert [row[0] for row in read_csv(body(response))[1:]] == numbers


def test_file_name_says_what_and_when(client_for, extension_a, callerids):
    xlsx = client_for("admin").get(export_url("xlsx", extension=extension_a.pk))
    csv_response = client_for("admin").get(export_url("csv", extension=extension_a.pk))

    assert re.fullmatch(
        r'attachment; filename="callerids-0003-001-\d{8}-\d{4}\.xlsx"',
        xlsx["Content-Disposition"],
    )
    assert re.fullmatch(
        r'attachment; filename="callerids-0003-001-\d{8}-\d{4}\.csv"',
        csv_response["Content-Disposition"],
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "2"}, "Unknown parameter: page"),
        ({"foo": "1", "bar": "2"}, "Unknown parameters: bar, foo"),
        ({"status": "deleted"}, "'status'"),
        ({"sort": "pin_hash"}, "'sort'"),
        ({"credit": "lots"}, "'credit'"),
    ],
)
def test_parameters_outside_the_pages_search_are_refused(
    client_for, extension_a, callerids, params, message
):
    response = client_for("reseller_a").get(export_url("csv", extension=extension_a.pk, **params))

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_missing_extension_is_refused(client_for, callerids):
    response = client_for("reseller_a").get(export_url("csv"))

    assert response.status_code == 400
    assert "extension" in response.content.decode()


def test_xlsx_refuses_the_csv_dialect(client_for, extension_a, callerids):
    response = client_for("reseller_a").get(
        export_url("xlsx", extension=extension_a.pk, dialect="semicolon")
    )

    assert response.status_code == 400


def test_unknown_exporter_or_format_is_not_found(client_for, extension_a, callerids):
    client = client_for("admin")

    assert client.get(f"/exports/nothing.csv?extension={extension_a.pk}").status_code == 404
    assert client.get(f"/exports/callerids.pdf?extension={extension_a.pk}").status_code == 404
    assert client.get("/exports/callerids.csv?extension=abc").status_code == 404


def test_it_rejects_post(client_for, extension_a, callerids):
    response = client_for("admin").post(export_url("csv", extension=extension_a.pk))

    assert response.status_code == 405


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 200),
        ("reseller_b", 404),
        ("staff_a", 200),
        ("staff_server", 200),
        ("anonymous", 302),
    ],
)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_role_matrix(client_for, extension_a, callerids, role, status, file_format):
    response = client_for(role).get(export_url(file_format, extension=extension_a.pk))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))
    if status == 200:
        body(response)


def test_reseller_b_cannot_export_reseller_a_extension_but_its_own(
    client_for, extension_a, extension_b, callerids
):
    client = client_for("reseller_b")

    assert client.get(export_url("csv", extension=extension_a.pk)).status_code == 404
    rows = read_csv(body(client.get(export_url("csv", extension=extension_b.pk))))
    assert [row[0] for row in rows[1:]] == ["+40799999999"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_query_count_does_not_grow_with_the_rows(
    client_for, extension_a, preferences, django_assert_max_num_queries, file_format
):
    client = client_for("staff_a")
    for i in range(60):
        make_callerid(extension_a, f"+4072100{i:04d}", available="1", at=utc(2026, 1, 1, 0, i))

    with django_assert_max_num_queries(8):
        data = body(client.get(export_url(file_format, extension=extension_a.pk)))
    assert len(data) > 1000
