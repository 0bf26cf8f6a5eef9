"""Export of every authorized CallerID a user may see, with Extension and Organization."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callback.models import CallbackExtension
from tenancy.models import ChargingPreferences, Organization
from tests.exports.helpers import body, make_callerid, money, read_csv, read_xlsx, utc

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
def callerids(extension_a, extension_b, reseller_a):
    ChargingPreferences.objects.create(pk=1, currency="EUR", decimals=2)
    formula_org = Organization.objects.create(reseller=reseller_a, name='=HYPERLINK("x")')
    extension_a2 = CallbackExtension.objects.create(organization=formula_org, number="0003*002")
    make_callerid(extension_a, "+40721000001", available="1.5", at=utc(2026, 5, 1, 10))
    make_callerid(extension_a2, "+40721000002", available="-0", at=utc(2026, 5, 2, 10))
    make_callerid(extension_b, "+40731000003", available="7", at=utc(2026, 5, 3, 10))


def url(file_format, role_client, **params):
    return role_client.get(reverse("exports:download", args=["callerids_all", file_format]), params)


def test_reseller_a_export_holds_exactly_a_rows(client_for, callerids):
    rows = read_csv(body(url("csv", client_for("reseller_a"))))

    assert rows == [
        HEADER,
        [
            "+40721000002",
            "Enabled",
            "No",
            "0.0000",
            "0.0000",
            "EUR",
            "2026-05-02 13:00:00",
            "0003*002",
            '\'=HYPERLINK("x")',
        ],
        [
            "+40721000001",
            "Enabled",
            "No",
            "1.5000",
            "1.5000",
            "EUR",
            "2026-05-01 13:00:00",
            "0003*001",
            "Org A1",
        ],
    ]


def test_reseller_b_export_holds_exactly_b_rows(client_for, callerids):
    rows = read_csv(body(url("csv", client_for("reseller_b"))))

    assert [row[0] for row in rows[1:]] == ["+40731000003"]
    assert rows[1][7:] == ["0004*001", "Org B1"]


@pytest.mark.parametrize(
    ("role", "numbers"),
    [
        ("admin", ["+40731000003", "+40721000002", "+40721000001"]),
        ("staff_server", ["+40731000003", "+40721000002", "+40721000001"]),
        ("staff_a", ["+40721000002", "+40721000001"]),
        ("reseller_a", ["+40721000002", "+40721000001"]),
        ("reseller_b", ["+40731000003"]),
    ],
)
def test_every_role_exports_what_it_can_see(client_for, callerids, role, numbers):
    response = url("csv", client_for(role))

    assert response.status_code == 200
    assert [row[0] for row in read_csv(body(response))[1:]] == numbers


def test_anonymous_is_sent_to_log_in(client_for, callerids):
    response = url("xlsx", client_for("anonymous"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_xlsx_adds_extension_and_organization_as_text(client_for, callerids):
    response = url("xlsx", client_for("reseller_a"), q="0002")

    rows = read_xlsx(body(response))["Authorized CallerIDs"]
    assert rows[0] == HEADER
    assert rows[1][0] == "+40721000002"
    assert money(rows[1][4]) == Decimal("0.0000")
    assert rows[1][7:] == ["0003*002", '=HYPERLINK("x")']
    assert response["Content-Disposition"].startswith('attachment; filename="callerids-all-')


def test_an_extension_parameter_is_refused(client_for, callerids, extension_a):
    response = url("csv", client_for("admin"), extension=extension_a.pk)

    assert response.status_code == 400
    assert "Unknown parameter: extension" in response.content.decode()
