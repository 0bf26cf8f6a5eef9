"""Server settings pages: License (callerids:license) and Charging preferences
(credit:charging). Administrators only; every change audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callerids.models import AuthorizedCallerID, License
from callerids.selectors import get_license
from callerids.services.license import update_license
from credit.models import LedgerEntry, LedgerKind
from credit.services.charging import update_charging_preferences
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.preferences import get_preferences
from values.currencies import ISO_4217_CURRENCIES
from values.errors import DomainError

pytestmark = pytest.mark.django_db


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize("name", ["callerids:license", "credit:charging"])
def test_settings_pages_use_few_queries(client_for, django_assert_max_num_queries, name):
    client = client_for("admin")
    client.get(reverse(name))  # the single rows exist from now on
    with django_assert_max_num_queries(8):
        assert client.get(reverse(name)).status_code == 200


# License


def test_the_license_page_shows_the_counter(client_for):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 50})
    License.objects.filter(pk=1).update(active_callerids=12)
    page = client_for("admin").get(reverse("callerids:license")).content.decode()
    assert "<strong>12</strong> of <strong>50</strong>" in page


def test_an_admin_raises_the_license_and_it_is_audited(client_for):
    get_license()
    response = client_for("admin").post(reverse("callerids:license"), {"max_active_callerids": 77})
    assert response.status_code == 302
    assert get_license().max_active_callerids == 77
    event = AuditEvent.objects.get(action="license.update")
    assert event.after == {"max_active_callerids": 77} and event.actor_label == "admin"


def test_lowering_below_the_count_is_allowed_and_says_existing_callerids_stay(client_for):
    get_license()
    License.objects.filter(pk=1).update(active_callerids=10)
    response = client_for("admin").post(
        reverse("callerids:license"), {"max_active_callerids": 3}, follow=True
    )
    assert "existing CallerIDs stay enabled" in response.content.decode()
    assert get_license().max_active_callerids == 3


@pytest.mark.parametrize("value", ["", "-1", "abc", "1.5", "99999999999"])
def test_bad_license_input_is_a_form_error(client_for, value):
    before = get_license().max_active_callerids
    response = client_for("admin").post(
        reverse("callerids:license"), {"max_active_callerids": value}
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert get_license().max_active_callerids == before


def test_the_license_service_refuses_a_negative_maximum(admin_user):
    with pytest.raises(DomainError):
        update_license(actor=Actor(user=admin_user), max_active_callerids=-5)


# Charging preferences


def _grant_credit(extension, *, kind=LedgerKind.RECHARGE, amount=Decimal("5")):
    callerid = AuthorizedCallerID.objects.create(
        extension=extension, number="+40721000123", available=Decimal("5"), total=Decimal("5")
    )
    LedgerEntry.objects.create(callerid=callerid, kind=kind, amount=amount, balance_after=amount)


def test_an_admin_sets_currency_decimals_and_country(client_for):
    response = client_for("admin").post(
        reverse("credit:charging"), {"currency": "USD", "decimals": "3", "default_country": "RO"}
    )
    assert response.status_code == 302
    preferences = get_preferences()
    assert (preferences.currency, preferences.decimals, preferences.default_country) == (
        "USD",
        3,
        "RO",
    )
    event = AuditEvent.objects.get(action="charging_preferences.update")
    assert event.after == {"currency": "USD", "decimals": 3, "default_country": "RO"}


def test_the_default_country_is_optional(client_for):
    client_for("admin").post(
        reverse("credit:charging"), {"currency": "EUR", "decimals": "2", "default_country": ""}
    )
    assert get_preferences().default_country == ""


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"currency": "XXX"}, "Select a valid choice"),
        ({"currency": "eur1"}, "Select a valid choice"),
        ({"decimals": "5"}, "Select a valid choice"),
        ({"decimals": "-1"}, "Select a valid choice"),
        ({"default_country": "ZZ"}, "Select a valid choice"),
        ({"currency": ""}, "This field is required"),
    ],
)
def test_bad_charging_input_is_a_form_error(client_for, data, field_message):
    base = {"currency": "EUR", "decimals": "2", "default_country": ""}
    response = client_for("admin").post(reverse("credit:charging"), {**base, **data})
    assert response.status_code == 200
    assert field_message in response.content.decode()


def test_the_currency_changes_freely_while_no_credit_was_granted(admin_user, extension_a):
    _grant_credit(extension_a, amount=Decimal("0"))  # a zero recharge grants nothing
    update_charging_preferences(actor=Actor(user=admin_user), currency="GBP", decimals=2)
    assert get_preferences().currency == "GBP"


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (LedgerKind.INITIAL, Decimal("1")),
        (LedgerKind.RECHARGE, Decimal("0.0001")),
        (LedgerKind.SET_UNLIMITED, None),
    ],
)
def test_the_currency_is_locked_once_credit_was_granted(admin_user, extension_a, kind, amount):
    get_preferences()
    if kind == LedgerKind.SET_UNLIMITED:
        callerid = AuthorizedCallerID.objects.create(
            extension=extension_a, number="1234", unlimited=True
        )
        LedgerEntry.objects.create(callerid=callerid, kind=kind, amount=None, balance_after=None)
    else:
        _grant_credit(extension_a, kind=kind, amount=amount)
    actor = Actor(user=admin_user)
    with pytest.raises(DomainError, match="The currency stays EUR"):
        update_charging_preferences(actor=actor, currency="USD", decimals=2)
    # The other preferences still change.
    update_charging_preferences(actor=actor, currency="EUR", decimals=4, default_country="DE")
    assert get_preferences().decimals == 4


def test_the_page_shows_the_currency_locked_and_ignores_a_posted_currency(client_for, extension_a):
    get_preferences()
    _grant_credit(extension_a)
    client = client_for("admin")
    page = client.get(reverse("credit:charging")).content.decode()
    assert "can no longer be changed" in page
    client.post(reverse("credit:charging"), {"currency": "USD", "decimals": "1"})
    preferences = get_preferences()
    assert preferences.currency == "EUR" and preferences.decimals == 1


def test_the_currency_list_holds_active_codes_only():
    assert {"EUR", "USD", "RON", "GBP", "JPY", "XCG", "ZWG"} <= set(ISO_4217_CURRENCIES)
    assert not {"XXX", "XTS", "HRK", "CUC", "MRO", "STD", "ZWL", "XAU"} & set(ISO_4217_CURRENCIES)
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217_CURRENCIES)


@pytest.mark.parametrize("value", ["\u0661", "\u0661\u0660", "\uff17\uff17"])  # ١ ١٠ ７７
def test_the_license_takes_ascii_digits_only(client_for, value):
    before = get_license().max_active_callerids
    response = client_for("admin").post(
        reverse("callerids:license"), {"max_active_callerids": value}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["max_active_callerids"] == [
        "Enter a whole number with the digits 0 to 9."
    ]
    assert get_license().max_active_callerids == before
