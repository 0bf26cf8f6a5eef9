"""Negative zero is zero wherever money is parsed (issue 16 item 9): the forms and the import
never store, record or show "-0" (the PBX API: tests/api/test_calls.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callback.models import CallbackExtension
from callerids.importing.services import check_import, confirm_import
from callerids.models import AuthorizedCallerID, License
from credit.models import LedgerEntry
from tenancy.audit import Actor
from tenancy.models import AuditEvent, ChargingPreferences
from tests.callback.test_extension_form import create
from tests.callerids.pages_support import add
from tests.callerids.test_add_form import add_url, form_data

pytestmark = pytest.mark.django_db


def is_negative_zero(value: Decimal) -> bool:
    return value.is_zero() and value.is_signed()


@pytest.fixture
def preferences(db):
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )


def test_the_add_form_stores_a_minus_zero_credit_as_zero(client_for, preferences, extension_a):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 10})
    client = client_for("reseller_a")

    response = client.post(add_url(extension_a), form_data({"number": "1234", "credit": "-0.00"}))

    assert response.status_code == 302
    callerid = AuthorizedCallerID.objects.get()
    assert callerid.available == 0 and not is_negative_zero(callerid.available)
    entry = LedgerEntry.objects.get()
    assert not is_negative_zero(entry.amount) and not is_negative_zero(entry.balance_after)
    assert AuditEvent.objects.get(action="callerid.add").after["available"] == "0.00"
    audit = client_for("admin").get(reverse("tenancy:audit_list")).content.decode()
    assert "-0.00" not in audit


def test_the_credit_form_treats_minus_zero_as_zero(client_for, preferences, extension_a):
    callerid = add(extension_a, "+40721000123", credit=Decimal("5"))[0]
    client = client_for("reseller_a")
    url = reverse("credit:callerid_credit", args=[callerid.pk])

    def submit(amount):
        key = client.get(url).context["form"]["one_time_key"].value()
        response = client.post(url, {"amount": amount, "order_number": "", "one_time_key": key})
        return response.status_code, response.context and response.context["form"].errors

    assert submit("-0.00") == submit("0")


def test_the_extension_form_stores_a_minus_zero_minimum_as_zero(client_for, org_a):
    response = create(client_for("admin"), org_a, min_credit="-0.00")

    assert response.status_code == 302
    extension = CallbackExtension.objects.get()
    assert extension.min_credit == 0 and not is_negative_zero(extension.min_credit)
    assert AuditEvent.objects.get(action="extension.create").after["min_credit"] == "0.00"


def test_the_import_reads_a_minus_zero_credit_as_zero(preferences, admin_user, extension_a):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 10})
    job = check_import(
        actor=Actor(user=admin_user),
        extension=extension_a,
        content=b"0721000123,,,-0\n0721000124,,,-0.00\n",
        file_name="numbers.csv",
        separator=",",
    )
    assert job.report["ok"], job.report
    assert [row["credit"] for row in job.report["preview"]] == ["0.0000", "0.0000"]

    confirm_import(actor=Actor(user=admin_user), job=job)

    for entry in LedgerEntry.objects.all():
        assert entry.amount == 0 and not is_negative_zero(entry.amount)
    for callerid in AuthorizedCallerID.objects.all():
        assert not is_negative_zero(callerid.available)
