"""The Add credit form of the credit management page: each row of SPEC §6's table as the
user sees it, the one-time key, order numbers, and what a typed amount may look like."""

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.models import LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import AuditEvent, ChargingPreferences

pytestmark = pytest.mark.django_db
D = Decimal


def make(extension, credit=None, unlimited=False, number="+40721000123", order=""):
    row = NewCallerID(number, credit=credit, unlimited=unlimited, order_number=order)
    return add_callerids(actor=SYSTEM, extension=extension, rows=[row]).callerids[0]


@pytest.fixture(autouse=True)
def preferences(db):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})


@pytest.fixture
def limited(extension_a):
    return make(extension_a, credit=D("10"), order="INIT-1")


@pytest.fixture
def unlimited(extension_a):
    return make(extension_a, unlimited=True, number="5555")


@pytest.fixture
def alice(client_for):
    return client_for("reseller_a")


def url(callerid):
    return reverse("credit:callerid_credit", args=[callerid.pk])


def submit(client, callerid, *, key=None, follow=False, **fields):
    """POST the form as a browser would after showing it (a fresh one-time key)."""
    if key is None:
        key = client.get(url(callerid)).context["form"]["one_time_key"].value()
    data = {"amount": "", "order_number": "", "one_time_key": str(key), **fields}
    if data.get("unlimited") is False:
        del data["unlimited"]
    return client.post(url(callerid), data, follow=follow)


def errors(response) -> dict:
    return {field: list(messages) for field, messages in response.context["form"].errors.items()}


def notes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def rows(callerid) -> int:
    return LedgerEntry.objects.filter(callerid=callerid).count()


def state(callerid):
    callerid.refresh_from_db()
    return callerid.unlimited, callerid.available, callerid.total


# --- what is applied ---------------------------------------------------------------------


def test_a_positive_amount_is_added_and_the_page_redirects(alice, limited):
    response = submit(alice, limited, amount="2.50", order_number=" ORD-2 ")
    assert response.status_code == 302 and response.url == url(limited)
    assert state(limited) == (False, D("12.5"), D("12.5"))
    last = LedgerEntry.objects.filter(callerid=limited).last()
    assert (last.kind, last.amount, last.balance_after) == ("recharge", D("2.5"), D("12.5"))
    assert (last.order_number, last.actor_username) == ("ORD-2", "alice")
    assert AuditEvent.objects.filter(action="credit.recharge", actor__username="alice").exists()
    page = alice.get(response.url)
    assert notes(page) == ["Added 2.50 EUR: 12.50 EUR left."]
    assert "ORD-2" in page.content.decode()


def test_a_negative_amount_within_the_credit_left_is_removed(alice, limited):
    response = submit(alice, limited, amount="-10", follow=True)
    assert state(limited) == (False, D("0"), D("0"))
    assert notes(response) == ["Removed 10.00 EUR: 0.00 EUR left."]
    assert LedgerEntry.objects.filter(callerid=limited).last().kind == LedgerKind.ADJUSTMENT


def test_ticking_unlimited_makes_the_callerid_unlimited(alice, limited):
    response = submit(alice, limited, unlimited="on", follow=True)
    assert state(limited) == (True, None, None)
    assert notes(response) == ["The CallerID now has Unlimited credit."]
    assert "(currently Unlimited left)" in re.sub(r"\s+", " ", response.content.decode())


def test_a_negative_amount_limits_an_unlimited_callerid_to_0(alice, unlimited):
    response = submit(alice, unlimited, amount="-10", follow=True)
    assert state(unlimited) == (False, D("0"), D("0"))
    last = LedgerEntry.objects.filter(callerid=unlimited).last()
    assert (last.kind, last.amount, last.balance_after) == ("set_limited", D("-10"), D("0"))
    assert notes(response) == ["The CallerID is now limited: 0.00 EUR left."]


def test_an_admin_may_recharge_any_callerid(client_for, limited):
    response = submit(client_for("admin"), limited, amount="1")
    assert response.status_code == 302
    assert state(limited)[1] == D("11")


# --- each refusal, next to its field -----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "-10.01"}, "amount", "At most 10.00 EUR can be removed."),
        ({"amount": "0"}, "amount", "Enter an amount other than 0, or tick Unlimited."),
        ({"amount": "0.00"}, "amount", "Enter an amount other than 0, or tick Unlimited."),
        ({"amount": ""}, "amount", "Enter an amount other than 0, or tick Unlimited."),
        ({"amount": "  "}, "amount", "Enter an amount other than 0, or tick Unlimited."),
        (
            {"amount": "5", "unlimited": "on"},
            "amount",
            "Enter an amount or tick Unlimited, not both.",
        ),
        ({"amount": "2,50"}, "amount", "Use a dot as the decimal separator."),
        ({"amount": "1,000"}, "amount", "Use a dot as the decimal separator."),
        ({"amount": "2.505"}, "amount", "Use at most 2 decimals."),
        ({"amount": "ten"}, "amount", "Enter a number for the amount."),
        ({"amount": "1e3"}, "amount", "Enter a number for the amount."),
        ({"amount": "NaN"}, "amount", "Enter a number for the amount."),
        ({"amount": "1000000.01"}, "amount", "One operation moves at most 1,000,000.00 EUR."),
        ({"amount": "-1000001"}, "amount", "One operation moves at most 1,000,000.00 EUR."),
        ({"amount": "1", "order_number": "INIT-1"}, "order_number", "Order INIT-1 was already"),
        (
            {"amount": "1", "order_number": "x" * 65},
            "order_number",
            "Ensure this value has at most 64 characters (it has 65).",
        ),
    ],
)
def test_each_refusal_is_shown_next_to_its_field(alice, limited, fields, field, message):
    response = submit(alice, limited, **fields)
    assert response.status_code == 200
    shown = errors(response)
    assert field in shown, shown
    assert shown[field][0].startswith(message)
    assert message in response.content.decode().replace("&#x27;", "'")
    assert rows(limited) == 1
    assert state(limited) == (False, D("10"), D("10"))


def test_a_reused_order_number_names_the_day_it_was_applied(alice, limited):
    day = timezone.localtime(LedgerEntry.objects.get(callerid=limited).created_at)
    response = submit(alice, limited, amount="1", order_number="INIT-1")
    assert errors(response) == {
        "order_number": [f"Order INIT-1 was already applied on {day:%Y-%m-%d}."]
    }


def test_order_numbers_are_case_sensitive(alice, limited):
    assert submit(alice, limited, amount="1", order_number="init-1").status_code == 302


@pytest.mark.parametrize(
    "fields", [{"amount": "5"}, {"unlimited": "on"}, {"amount": ""}, {"amount": "0"}]
)
def test_an_unlimited_callerid_refuses_more_credit(alice, unlimited, fields):
    response = submit(alice, unlimited, **fields)
    assert errors(response) == {
        "amount": ["Already unlimited; enter a negative amount to set a limit."]
    }
    assert rows(unlimited) == 1


def test_unlimited_is_refused_without_the_right(alice, reseller_a, limited):
    reseller_a.may_grant_unlimited = False
    reseller_a.save()
    response = submit(alice, limited, unlimited="on")
    assert response.status_code == 200
    assert errors(response) == {"__all__": ["You may not grant Unlimited credit."]}
    assert rows(limited) == 1


def test_a_balance_beyond_the_maximum_is_refused(alice, extension_a):
    full = make(extension_a, credit=D("1000000"), number="7777")
    from callerids.models import AuthorizedCallerID

    AuthorizedCallerID.objects.filter(pk=full.pk).update(
        available=D("9999999999.9999"), total=D("9999999999.9999")
    )
    response = submit(alice, full, amount="1")
    assert errors(response) == {"amount": ["A balance holds at most 9,999,999,999.99 EUR."]}


def test_a_form_without_its_one_time_key_is_refused(alice, limited):
    response = alice.post(url(limited), {"amount": "1", "order_number": ""})
    assert response.status_code == 200
    assert errors(response)["one_time_key"] == [
        "This form has expired; open the page again and re-enter the credit."
    ]
    assert "This form has expired" in response.content.decode()
    assert rows(limited) == 1


def test_the_form_keeps_what_was_typed_after_a_refusal(alice, limited):
    key = uuid.uuid4()
    response = submit(alice, limited, key=key, amount="2,5", order_number="KEEP")
    html = response.content.decode()
    assert 'value="2,5"' in html and 'value="KEEP"' in html and str(key) in html
    assert 'class="invalid-feedback"' in html or "is-invalid" in html


# --- the one-time key --------------------------------------------------------------------


def test_a_second_post_with_the_same_key_changes_nothing(alice, limited):
    key = uuid.uuid4()
    first = submit(alice, limited, key=key, amount="5", order_number="ONCE")
    second = submit(alice, limited, key=key, amount="5", order_number="ONCE", follow=True)
    assert first.status_code == 302
    assert second.redirect_chain[0][1] == 302
    assert state(limited) == (False, D("15"), D("15"))
    assert rows(limited) == 2
    applied = LedgerEntry.objects.get(one_time_key=key).created_at
    assert notes(second)[-1].startswith(f"Already applied at {timezone.localtime(applied):%H:%M}")
    assert re.fullmatch(
        r"Already applied at \d\d:\d\d\. Added 5\.00 EUR: 15\.00 EUR left\.", notes(second)[-1]
    )


def test_a_resent_form_is_applied_once_even_with_other_values(alice, limited):
    key = uuid.uuid4()
    submit(alice, limited, key=key, amount="5")
    response = submit(alice, limited, key=key, amount="7", follow=True)
    assert state(limited)[1] == D("15")
    assert notes(response)[-1].startswith("Already applied at ")


def test_a_key_used_for_another_callerid_is_refused(alice, limited, extension_a):
    other = make(extension_a, credit=D("1"), number="8888")
    key = uuid.uuid4()
    submit(alice, limited, key=key, amount="5")
    response = submit(alice, other, key=key, amount="5")
    assert errors(response) == {
        "__all__": ["This form was already used for another CallerID; open it again."]
    }
    assert state(other)[1] == D("1")


def test_each_showing_of_the_form_has_a_new_key(alice, limited):
    first = alice.get(url(limited)).context["form"]["one_time_key"].value()
    second = alice.get(url(limited)).context["form"]["one_time_key"].value()
    assert first != second
    assert uuid.UUID(str(first))


def test_get_never_changes_anything(alice, limited):
    alice.get(url(limited), {"amount": "5", "one_time_key": str(uuid.uuid4())})
    assert rows(limited) == 1


def test_decimals_follow_the_preferences(alice, limited):
    ChargingPreferences.objects.filter(pk=1).update(decimals=0)
    assert errors(submit(alice, limited, amount="1.5")) == {
        "amount": ["Enter a whole amount (no decimals)."]
    }
    ChargingPreferences.objects.filter(pk=1).update(decimals=4)
    assert submit(alice, limited, amount="1.2345").status_code == 302
    assert state(limited)[1] == D("11.2345")


# --- messages worded for the user who reads them (issue 16) --------------------------------


@pytest.mark.parametrize("amount", ["", "0", "0.00"])
def test_who_may_not_grant_unlimited_is_not_told_to_tick_it(client_for, extension_b, amount):
    callerid = make(extension_b, credit=D("10"), number="7777")
    response = submit(client_for("reseller_b"), callerid, amount=amount)
    assert errors(response) == {"amount": ["Enter an amount other than 0."]}
    assert "Unlimited" not in response.content.decode()
    assert rows(callerid) == 1


@pytest.mark.parametrize(
    ("decimals", "available", "amount", "message"),
    [
        (2, "10", "-10.01", "At most 10.00 EUR can be removed."),
        # Shown rounded down: the amount named is one the form accepts.
        (2, "10.0089", "-11", "At most 10.00 EUR can be removed."),
        (0, "10.6", "-11", "At most 10 EUR can be removed."),
        (4, "10.0089", "-11", "At most 10.0089 EUR can be removed."),
    ],
)
def test_the_amount_that_can_be_removed_is_shown_as_pages_show_money(
    alice, limited, decimals, available, amount, message
):
    from callerids.models import AuthorizedCallerID

    ChargingPreferences.objects.filter(pk=1).update(decimals=decimals)
    AuthorizedCallerID.objects.filter(pk=limited.pk).update(available=D(available))
    assert errors(submit(alice, limited, amount=amount)) == {"amount": [message]}


def test_limits_are_shown_with_the_shown_decimals_and_the_currency(alice, extension_a):
    response = submit(alice, make(extension_a, credit=D("1")), amount="1000000.01")
    assert errors(response) == {"amount": ["One operation moves at most 1,000,000.00 EUR."]}
