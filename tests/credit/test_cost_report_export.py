"""The cost report's export: CSV and Excel read back cell by cell, totals that match the
page's, the page's parameters only, and scope before filters."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse

from callerids.models import CallerIDStatus
from credit.models import Call
from tests.conftest import ROLES
from tests.credit.test_cost_report_selectors import call, make_callerid

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOV = {"from": "2026-11-01", "to": "2026-11-30"}
HEADER = [
    "Start time (UTC)",
    "CallerID",
    "Destination",
    "Duration",
    "Duration (seconds)",
    "Cost",
    "Charged",
    "Shortfall",
    "Metered",
    "Currency",
]


def export_url(extension, file_format="csv", **params) -> str:
    query = urlencode({"extension": extension.pk, **params})
    return f"{reverse('exports:download', args=['cost_report', file_format])}?{query}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(body(response)))
    return list(book.worksheets[0].iter_rows(values_only=True))


def page_totals(client, extension, **params):
    page = client.get(f"{reverse('credit:cost_report', args=[extension.pk])}?{urlencode(params)}")
    assert page.status_code == 200
    return page.context["totals"]


@pytest.fixture
def month_of_calls(extension_a):
    cid = make_callerid(extension_a, "+40721000123")
    gone = make_callerid(extension_a, "+40721000456", status=CallerIDStatus.REMOVED)
    start = dt.datetime(2026, 11, 1, 0, 0, 7, tzinfo=UTC)
    rows = []
    for n in range(45):
        callerid = (cid, gone, None)[n % 3]
        cost = Decimal("0.0001") * (n * 1237 % 9999) + Decimal("0.3333")
        metered = callerid is not None
        short = Decimal("0.1111") if n % 9 == 1 else Decimal("0")
        rows.append(
            call(extension_a, start + dt.timedelta(hours=15 * n), callerid=callerid,
                 cost=str(cost), charged=str(cost - short if metered else 0),
                 shortfall=str(short), duration=37 * n + 5,
                 caller_id="=cmd|' /C calc'!A0" if n == 2 else "", save=False)
        )  # fmt: skip
    Call.objects.bulk_create(rows)
    # Outside the range: never exported.
    call(extension_a, dt.datetime(2026, 12, 1, tzinfo=UTC), callerid=cid)
    return {"cid": cid, "gone": gone}


EXPECTED = {
    "admin": 200,
    "reseller_a": 200,
    "reseller_b": 404,
    "staff_a": 200,
    "staff_server": 200,
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client_for, extension_a, role):
    response = client_for(role).get(export_url(extension_a, **NOV))
    assert response.status_code == EXPECTED[role]


def test_the_csv_matches_the_pages_totals(client_for, extension_a, month_of_calls):
    client = client_for("staff_a")
    response = client.get(export_url(extension_a, **NOV))
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == HEADER
    data = rows[1:]
    assert len(data) == 45
    metered = [r for r in data if r[8] == "Yes"]
    unmetered = [r for r in data if r[8] == "No"]
    totals = page_totals(client, extension_a, **NOV)
    assert len(metered) == totals.calls and len(unmetered) == totals.unmetered_calls
    assert sum(int(r[4]) for r in metered) == totals.seconds
    assert sum(int(r[4]) for r in unmetered) == totals.unmetered_seconds
    assert sum(Decimal(r[5]) for r in metered) == totals.cost
    assert sum(Decimal(r[6]) for r in metered) == totals.charged
    assert sum(Decimal(r[7]) for r in metered) == totals.shortfall
    assert sum(Decimal(r[5]) for r in unmetered) == totals.unmetered_cost
    # Amounts keep their 4 decimals; formula-looking caller ids are written as text.
    assert all(re.fullmatch(r"\d+\.\d{4}", r[5]) for r in data)
    assert data[2][1] == "'=cmd|' /C calc'!A0"
    assert data[0][:5] == ["2026-11-01 00:00:07", "+40721000123", "+4031000000", "0:00:05", "5"]


def test_the_excel_file_holds_numbers_dates_and_text_matching_the_page(
    client_for, extension_a, month_of_calls
):
    client = client_for("admin")
    response = client.get(export_url(extension_a, "xlsx", **NOV))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="cost-report-0003-001-20261101-20261130.xlsx"'
    )
    rows = xlsx_rows(response)
    assert list(rows[0]) == HEADER
    data = rows[1:]
    assert len(data) == 45
    assert data[0][0] == dt.datetime(2026, 11, 1, 0, 0, 7)
    assert data[0][1] == "+40721000123" and isinstance(data[0][1], str)
    totals = page_totals(client, extension_a, **NOV)
    metered = [r for r in data if r[8] == "Yes"]
    # openpyxl reads numbers back as floats; str() gives their shortest spelling, exact here.
    cost = sum(Decimal(str(r[5])) for r in metered)
    charged = sum(Decimal(str(r[6])) for r in metered)
    assert cost.quantize(Decimal("0.0001")) == totals.cost
    assert charged.quantize(Decimal("0.0001")) == totals.charged
    assert sum(r[4] for r in metered) == totals.seconds


def test_the_callerid_filter_and_removed_callerids(client_for, extension_a, month_of_calls):
    gone = month_of_calls["gone"]
    client = client_for("reseller_a")
    rows = csv_rows(client.get(export_url(extension_a, callerid=gone.pk, **NOV)))[1:]
    assert len(rows) == 15
    assert {r[1] for r in rows} == {"+40721000456"}
    totals = page_totals(client, extension_a, callerid=gone.pk, **NOV)
    assert sum(Decimal(r[5]) for r in rows) == totals.cost


def test_the_sort_key_of_the_table_orders_the_rows(client_for, extension_a, month_of_calls):
    rows = csv_rows(client_for("admin").get(export_url(extension_a, sort="-cost", **NOV)))[1:]
    costs = [Decimal(r[5]) for r in rows]
    assert costs == sorted(costs, reverse=True)


@override_settings(TIME_ZONE="Europe/Bucharest")
def test_times_are_in_the_server_time_zone_named_in_the_header(client_for, extension_a):
    call(extension_a, dt.datetime(2026, 11, 30, 21, 59, 59, tzinfo=UTC))  # 23:59:59 local
    call(extension_a, dt.datetime(2026, 11, 30, 22, 0, 0, tzinfo=UTC))  # 1 December
    rows = csv_rows(client_for("admin").get(export_url(extension_a, **NOV)))
    assert rows[0][0] == "Start time (Europe/Bucharest)"
    assert [r[0] for r in rows[1:]] == ["2026-11-30 23:59:59"]


def test_the_semicolon_dialect_uses_comma_decimals(client_for, extension_a):
    call(extension_a, dt.datetime(2026, 11, 3, tzinfo=UTC), cost="1.5000")
    response = client_for("admin").get(export_url(extension_a, dialect="semicolon", **NOV))
    text = body(response).decode("utf-8")
    assert ";1,5000;" in text


def test_without_dates_it_exports_this_month_named_so(client_for, extension_a):
    response = client_for("admin").get(export_url(extension_a))
    assert response.status_code == 200
    assert re.search(
        r'filename="cost-report-0003-001-\d{6}01-\d{8}\.csv"', response["Content-Disposition"]
    )


def test_another_resellers_extension_or_callerid_is_404(client_for, extension_a, extension_b):
    foreign = make_callerid(extension_b)
    client = client_for("reseller_a")
    assert client.get(export_url(extension_b, **NOV)).status_code == 404
    assert client.get(export_url(extension_a, callerid=foreign.pk, **NOV)).status_code == 404
    assert client.get(export_url(extension_a, callerid="abc", **NOV)).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-31"},
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"sort": "password"},
        {"per_page": "10"},
        {"anything": "else"},
    ],
)
def test_bad_parameters_answer_400_with_a_reason(client_for, extension_a, params):
    response = client_for("admin").get(export_url(extension_a, **params))
    assert response.status_code == 400
    assert response.content


def test_it_needs_the_extension(client_for, extension_a):
    response = client_for("admin").get(reverse("exports:download", args=["cost_report", "csv"]))
    assert response.status_code == 400


def test_the_pages_export_buttons_carry_its_filter(client_for, extension_a):
    cid = make_callerid(extension_a)
    page = client_for("admin").get(
        reverse("credit:cost_report", args=[extension_a.pk]) + f"?callerid={cid.pk}&page=2"
    )
    html = page.content.decode()
    links = re.findall(r'href="(/exports/cost_report\.[a-z]+\?[^"]+)"', html)
    assert links
    for link in links:
        link = link.replace("&amp;", "&")
        assert f"callerid={cid.pk}" in link and f"extension={extension_a.pk}" in link
        assert "from=" in link and "to=" in link and "page=" not in link
        assert client_for("admin").get(link).status_code == 200


def test_a_typed_number_filters_the_export_as_the_page(client_for, extension_a, month_of_calls):
    gone = month_of_calls["gone"]
    client = client_for("reseller_a")
    rows = csv_rows(client.get(export_url(extension_a, number=gone.number, **NOV)))[1:]
    assert rows and {row[1] for row in rows} == {gone.number}
    totals = page_totals(client, extension_a, number=gone.number, **NOV)
    assert len(rows) == totals.calls + totals.unmetered_calls


def test_a_typed_number_that_is_not_this_extensions_is_400(client_for, extension_a):
    response = client_for("reseller_a").get(export_url(extension_a, number="+40799999999", **NOV))
    assert response.status_code == 400
    assert "No CallerID +40799999999 on this extension." in response.content.decode()


def test_the_export_buttons_of_a_typed_number_export_the_same_calls(
    client_for, extension_a, month_of_calls
):
    from tenancy.models import ChargingPreferences

    ChargingPreferences.objects.update_or_create(pk=1, defaults={"default_country": "RO"})
    cid = month_of_calls["cid"]
    client = client_for("admin")
    page = client.get(
        reverse("credit:cost_report", args=[extension_a.pk]),
        {"number": "0721 000 123", **NOV},
    )
    links = re.findall(r'href="(/exports/cost_report\.csv\?[^"]+)"', page.content.decode())
    assert links
    link = links[0].replace("&amp;", "&")
    assert "number=0721+000+123" in link
    rows = csv_rows(client.get(link))[1:]
    assert rows and {row[1] for row in rows} == {cid.number}
    assert len(rows) == page.context["totals"].calls + page.context["totals"].unmetered_calls
