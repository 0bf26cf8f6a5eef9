"""Dates at the calendar's ends (issue 16 item 8): every date filter checks its range before any
date arithmetic, so pages answer with a form error and exports with 400, never a 500."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from credit.models import LedgerKind
from tenancy.models import ChargingPreferences
from tests.exports.helpers import make_callerid, make_entry, utc

pytestmark = pytest.mark.django_db

FAR = ["9999-12-31", "9999-12-01", "0001-01-01", "0001-01-02"]
ERROR = "Choose a date between"


@pytest.fixture
def callerid(extension_a):
    ChargingPreferences.objects.create(pk=1, currency="EUR", decimals=2)
    callerid = make_callerid(extension_a, "+40721000123", available="5", at=utc(2026, 1, 1))
    make_entry(callerid, LedgerKind.INITIAL, "5", "5", order="INIT", at=utc(2026, 1, 1))
    return callerid


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_the_credit_page_explains_a_far_date_on_the_form(client_for, callerid, name, day):
    url = reverse("credit:callerid_credit", args=[callerid.pk])

    response = client_for("reseller_a").get(url, {name: day})

    assert response.status_code == 200
    assert ERROR in response.content.decode()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_the_recharge_history_export_answers_400(client_for, callerid, name, day, file_format):
    url = reverse("exports:download", args=["recharge_history", file_format])

    response = client_for("reseller_a").get(url, {"callerid": callerid.pk, name: day})

    assert response.status_code == 400
    assert ERROR in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"from": day} for day in FAR]
    + [{"to": day} for day in FAR]
    + [{"from": "9999-12-01", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-31"}],
)
def test_the_cost_report_explains_a_far_date_on_the_form(client_for, extension_a, params):
    url = reverse("credit:cost_report", args=[extension_a.pk])

    response = client_for("reseller_a").get(f"{url}?{urlencode(params)}")

    assert response.status_code == 200
    assert ERROR in response.content.decode()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("params", [{"from": "9999-12-31"}, {"to": "0001-01-01"}])
def test_the_cost_report_export_answers_400(client_for, extension_a, params, file_format):
    url = reverse("exports:download", args=["cost_report", file_format])

    response = client_for("reseller_a").get(url, {"extension": extension_a.pk, **params})

    assert response.status_code == 400
    assert ERROR in response.content.decode()


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_the_audit_log_explains_a_far_date_on_the_form(client_for, name, day):
    response = client_for("admin").get(reverse("tenancy:audit_list"), {name: day})

    assert response.status_code == 200
    assert ERROR in response.content.decode()
