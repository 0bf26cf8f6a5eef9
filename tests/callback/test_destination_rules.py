"""Destination rules (SPEC §11): who edits which set, the form's normalization and
refusals, the audit, and the judgement the PBX's calls/start uses."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callback.destinations import (
    DEFAULT_RULES,
    Rules,
    clean_countries,
    clean_prefixes,
    denial,
    read_destination,
)
from callback.models import DestinationRules
from tenancy.models import AuditEvent

pytestmark = pytest.mark.django_db

SERVER = reverse("callback:destination_rules")


def reseller_url(reseller):
    return reverse("callback:reseller_destination_rules", args=[reseller.pk])


def rules_data(**overrides):
    data = {
        "blocked_prefixes": "+882\n00883",
        "allowed_countries": "ro, de",
        "refuse_premium": "on",
        "max_rate_per_minute": "0.5",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 302),  # to its own reseller's rules
        ("staff_a", 403),
        ("staff_server", 403),
        ("anonymous", 302),
    ],
)
def test_the_server_rules_page_is_for_admins(client_for, reseller_a, role, status):
    response = client_for(role).get(SERVER)
    assert response.status_code == status
    if role == "reseller_a":
        assert response["Location"] == reseller_url(reseller_a)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 200),
        ("reseller_b", 404),
        ("staff_a", 403),
        ("staff_server", 403),
        ("anonymous", 302),
    ],
)
def test_a_resellers_rules_page_is_for_admins_and_that_reseller(
    client_for, reseller_a, role, status
):
    assert client_for(role).get(reseller_url(reseller_a)).status_code == status
    assert client_for(role).post(reseller_url(reseller_a), rules_data()).status_code in (
        status if status != 200 else 302,
    )


def test_admins_see_every_resellers_rules_from_the_server_page(client_for, reseller_a, reseller_b):
    content = client_for("admin").get(SERVER).content.decode()
    assert reseller_url(reseller_a) in content and reseller_url(reseller_b) in content


def test_saving_normalizes_and_audits(client_for, reseller_a):
    response = client_for("reseller_a").post(reseller_url(reseller_a), rules_data())
    assert response.status_code == 302
    rules = DestinationRules.objects.get(reseller=reseller_a)
    assert rules.blocked_prefixes == ["+882", "+883"]
    assert rules.allowed_countries == ["RO", "DE"]
    assert (rules.refuse_premium, rules.max_rate_per_minute) == (True, Decimal("0.5"))
    event = AuditEvent.objects.get(action="destination_rules.update")
    assert event.actor.username == "alice" and event.reseller == reseller_a
    assert event.before["blocked_prefixes"] == [] and event.after["blocked_prefixes"] == [
        "+882",
        "+883",
    ]
    # Saving the same values again changes nothing and writes no event.
    client_for("reseller_a").post(reseller_url(reseller_a), rules_data())
    assert AuditEvent.objects.filter(action="destination_rules.update").count() == 1


def test_the_server_rules_are_one_row(client_for):
    client = client_for("admin")
    client.post(SERVER, rules_data(allowed_countries=""))
    client.post(SERVER, rules_data(allowed_countries="FR", refuse_premium=""))
    rules = DestinationRules.objects.get(reseller=None)
    assert (rules.allowed_countries, rules.refuse_premium) == (["FR"], False)
    assert DestinationRules.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("blocked_prefixes", "+88a", "is not a prefix"),
        ("allowed_countries", "XX", "is not a country code"),
        ("max_rate_per_minute", "-1", "Enter a rate of 0 or more."),
        ("max_rate_per_minute", "0.00001", "Use at most 4 decimals."),
        ("max_rate_per_minute", "\u0661", "Enter a number for the maximum rate."),  # ١
        ("max_rate_per_minute", "1000001", "Enter at most 1,000,000.00 EUR."),
    ],
)
def test_bad_values_are_refused_by_their_field(client_for, field, value, message):
    response = client_for("admin").post(SERVER, rules_data(**{field: value}))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not DestinationRules.objects.exists()


def test_the_page_reads_little(client_for, reseller_a, django_assert_max_num_queries):
    client = client_for("admin")
    client.get(SERVER)
    with django_assert_max_num_queries(6):
        assert client.get(SERVER).status_code == 200


# --- the judgement ------------------------------------------------------------------------


def test_numbers_are_read_as_international_or_in_the_default_country():
    assert read_destination("+40 31 000 0000", None).country == "RO"
    assert read_destination("0040310000000", None).text == "+40310000000"
    assert read_destination("0310000000", "RO").text == "+40310000000"
    assert read_destination("abc", "RO").country is None


def test_premium_rate_and_shared_cost_come_from_the_number_type():
    assert read_destination("+40900123456", None).premium  # RO premium rate
    assert read_destination("+448431234567", None).premium  # UK shared cost (0843)
    assert not read_destination("+40721000123", None).premium


def test_each_reason_in_order():
    rules = Rules(
        blocked_prefixes=("+882",),
        allowed_countries=frozenset({"RO"}),
        max_rate_per_minute=Decimal("0.1"),
    )
    rate = Decimal("0.2")
    assert denial(read_destination("+88212345678", None), rate, [rules]) == "destination_blocked"
    assert denial(read_destination("+33142000000", None), rate, [rules]) == "destination_blocked"
    assert denial(read_destination("+40900123456", None), rate, [rules]) == "premium_rate"
    assert denial(read_destination("+40310000000", None), rate, [rules]) == "rate_too_high"
    assert denial(read_destination("+40310000000", None), Decimal("0.1"), [rules]) is None
    assert denial(read_destination("+40900123456", None), rate, [DEFAULT_RULES]) == "premium_rate"


def test_prefixes_and_countries_are_normalized():
    assert clean_prefixes("+882, 00883\n 44 +882") == ["+882", "+883", "+44"]
    assert clean_countries("ro de,FR ro") == ["RO", "DE", "FR"]
