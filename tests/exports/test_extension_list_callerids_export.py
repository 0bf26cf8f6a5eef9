"""The callback extensions list's "Export all CallerIDs" (issue 16, SPEC §8): every
authorized CallerID (not removed) of the extensions in the list's current search, with
the Extension and Organization columns, through the cross-extension CallerIDs exporter."""

import re

import pytest
from django.urls import reverse

from callback.models import CallbackExtension, ReturnMode
from callerids.models import CallerIDStatus
from tenancy.models import ChargingPreferences, Organization
from tests.exports.helpers import body, make_callerid, read_csv, read_xlsx, utc

pytestmark = pytest.mark.django_db

HEADER = [
    "Callback Number",
    "Status",
    "PIN",
    "Total Credit",
    "Available Credit",
    "Currency",
    "Created (Europe/Bucharest)",
    "Extension",
    "Organization",
]


@pytest.fixture
def world(extension_a, extension_b, reseller_a):
    ChargingPreferences.objects.create(pk=1, currency="EUR", decimals=2)
    sales = Organization.objects.create(reseller=reseller_a, name="Sales A")
    fixed = CallbackExtension.objects.create(
        organization=sales,
        number="0003*002",
        name="Desk",
        return_mode=ReturnMode.FIXED,
        fixed_number="+40721000999",
    )
    make_callerid(extension_a, "+40721000001", available="1.5", at=utc(2026, 5, 1, 10))
    make_callerid(extension_a, "+40721000002", available="2", at=utc(2026, 5, 2, 10))
    make_callerid(
        extension_a, "+40721000003", at=utc(2026, 5, 3, 10), status=CallerIDStatus.REMOVED
    )
    make_callerid(fixed, "+40721000004", available="4", at=utc(2026, 5, 4, 10))
    make_callerid(extension_b, "+40731000005", available="5", at=utc(2026, 5, 5, 10))
    return fixed


def export_links(html: str) -> dict[str, str]:
    """The list's "Export all CallerIDs" links, by label."""
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(Export all CallerIDs to [^<]+)</a>', html)
    return {label: href.replace("&amp;", "&") for href, label in links}


def list_page(client, **search):
    return client.get(reverse("callback:extension_list"), search).content.decode()


def test_the_list_offers_excel_and_csv_for_the_current_search(client_for, world):
    links = export_links(list_page(client_for("reseller_a"), q="Sales", page="1"))
    assert sorted(links) == ["Export all CallerIDs to CSV", "Export all CallerIDs to Excel"]
    assert "q=Sales" in links["Export all CallerIDs to CSV"]
    assert "page=" not in links["Export all CallerIDs to CSV"]


def test_the_csv_holds_the_callerids_of_the_searched_extensions_only(client_for, world):
    client = client_for("reseller_a")
    links = export_links(list_page(client, return_mode="authorized"))
    rows = read_csv(body(client.get(links["Export all CallerIDs to CSV"])))
    assert rows[0] == HEADER
    assert [(row[0], row[7], row[8]) for row in rows[1:]] == [
        ("+40721000002", "0003*001", "Org A1"),
        ("+40721000001", "0003*001", "Org A1"),
    ]
    assert rows[1][3:6] == ["2.0000", "2.0000", "EUR"]  # exact 4-decimal values


def test_the_excel_file_follows_the_search_too(client_for, world):
    client = client_for("reseller_a")
    links = export_links(list_page(client, q="Sales", sort="-number"))
    response = client.get(links["Export all CallerIDs to Excel"])
    assert response.status_code == 200
    rows = read_xlsx(body(response))["Authorized CallerIDs"]
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == ["+40721000004"]
    assert rows[1][7:] == ["0003*002", "Sales A"]


@pytest.mark.parametrize(
    ("role", "numbers"),
    [
        ("admin", {"+40721000001", "+40721000002", "+40721000004", "+40731000005"}),
        ("staff_server", {"+40721000001", "+40721000002", "+40721000004", "+40731000005"}),
        ("reseller_a", {"+40721000001", "+40721000002", "+40721000004"}),
        ("staff_a", {"+40721000001", "+40721000002", "+40721000004"}),
        ("reseller_b", {"+40731000005"}),
    ],
)
def test_each_role_exports_the_callerids_of_the_extensions_it_sees(
    client_for, world, role, numbers
):
    client = client_for(role)
    links = export_links(list_page(client))
    rows = read_csv(body(client.get(links["Export all CallerIDs to CSV"])))
    assert {row[0] for row in rows[1:]} == numbers


def test_another_resellers_organization_in_the_search_is_refused(client_for, world, org_b):
    url = reverse("exports:download", args=["extension_list_callerids", "csv"])
    response = client_for("reseller_a").get(url, {"organization": org_b.pk})
    assert response.status_code == 400


def test_the_export_takes_a_bounded_number_of_queries(
    client_for, world, django_assert_max_num_queries
):
    client = client_for("reseller_a")
    url = reverse("exports:download", args=["extension_list_callerids", "csv"])
    client.get(url)
    with django_assert_max_num_queries(12):
        response = client.get(url, {"q": "0003"})
        body(response)


def test_anonymous_is_sent_to_log_in(client_for, world):
    url = reverse("exports:download", args=["extension_list_callerids", "xlsx"])
    response = client_for("anonymous").get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
