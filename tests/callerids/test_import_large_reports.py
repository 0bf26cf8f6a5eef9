"""Import reports stay small whatever the file (issue 16 item 16): a run of empty rows is one
bad line, trailing empty rows end the data, and a report keeps the first 1,000 bad lines and
their count (the downloadable list has them all)."""

import csv
import io
import json

import openpyxl
import pytest
from django.urls import reverse
from openpyxl.styles import Font

from callback.models import CallbackExtension
from callerids.models import ImportJob
from tests.callerids.test_import_views import job_urls, upload

pytestmark = pytest.mark.django_db


def xlsx(cells: dict[str, str], styled: tuple[str, ...] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for ref, value in cells.items():
        sheet[ref] = value
    for ref in styled:
        sheet[ref].font = Font(bold=True)  # a formatted cell with no value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check(client, content: bytes, name: str):
    return client.post(
        reverse("callerids:import", args=[CallbackExtension.objects.get().pk]),
        upload(content, name=name),
        follow=True,
    )


def test_a_far_cell_makes_one_bad_line_for_the_empty_rows_before_it(client_for, extension_a):
    content = xlsx({"A1": "Callback number", "A2": "0721000123", "A99999": "0721000999"})
    assert len(content) < 10_000

    page = check(client_for("admin"), content, "far.xlsx")

    job = ImportJob.objects.get()
    assert job.report["errors"] == [
        {"line": 3, "message": "Empty lines 3 to 99,998 (99,996 lines): remove them."}
    ]
    assert job.report["errors_count"] == 1
    assert len(json.dumps(job.report)) < 10_000
    html = page.content.decode()
    assert "Empty lines 3 to 99,998" in html and "Confirm import" not in html


def test_trailing_formatted_empty_rows_end_the_data(client_for, extension_a):
    content = xlsx({"A1": "Callback number", "A2": "0721000123"}, styled=("A99999", "D50000"))

    check(client_for("admin"), content, "styled.xlsx")

    job = ImportJob.objects.get()
    assert job.report["ok"] and job.report["count"] == 1 and job.report["lines"] == 1
    assert job.report["errors"] == [] and job.report["errors_count"] == 0


def test_a_single_empty_line_keeps_its_own_message(client_for, extension_a):
    check(client_for("admin"), b"0721000123\n\n0721000124\n", "numbers.csv")

    assert ImportJob.objects.get().report["errors"] == [
        {"line": 2, "message": "Empty line: remove it."}
    ]


def test_a_report_keeps_the_first_1000_bad_lines_and_the_download_has_all(client_for, extension_a):
    client = client_for("admin")
    content = "".join(f"bad-{n}\n" for n in range(2500)).encode()

    page = check(client, content, "bad.csv")

    job = ImportJob.objects.get()
    assert job.report["errors_count"] == 2500
    assert [e["line"] for e in job.report["errors"]] == list(range(1, 1001))
    assert len(json.dumps(job.report)) < 200_000
    html = page.content.decode()
    assert 'data-testid="error-count">2,500<' in html
    assert "and 2,000 more bad lines" in html  # the page lists 500
    download = client.get(job_urls(job)["errors"])
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "reason"]
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 2501))
