"""The add form: up to 10 authorized CallerIDs at once, all or none (SPEC §5.1)."""

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from callerids.models import AuthorizedCallerID
from callerids.pins import check_pin
from callerids.selectors import get_license
from tenancy.preferences import get_preferences
from tests.callerids.pages_support import add
from tests.conftest import ROLES
from tests.html_support import form_values

pytestmark = pytest.mark.django_db
FORM_LABEL = "Add authorized CallerIDs"

POST_EXPECTED = {
    "admin": 302,
    "reseller_a": 302,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


def add_url(extension):
    return reverse("callerids:add", args=[extension.pk])


def form_data(*rows, key=None, unlimited_boxes=False, total=10):
    """What the browser sends: 10 rows (the given ones first), the management form, the key.

    unlimited_boxes: the user ticked Unlimited on every row that does not say otherwise.
    """
    data = {
        "one_time_key": str(key or uuid.uuid4()),
        "rows-TOTAL_FORMS": str(total),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "10",
    }
    for index in range(total):
        row = rows[index] if index < len(rows) else {}
        if unlimited_boxes and "unlimited" not in row:
            row = {**row, "unlimited": "on"}
        for name, value in row.items():
            if value is not None and value is not False:
                data[f"rows-{index}-{name}"] = value
    return data


def numbers(extension) -> list[str]:
    return sorted(
        AuthorizedCallerID.objects.filter(extension=extension).values_list("number", flat=True)
    )


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize("role", ROLES)
def test_post_role_matrix(client_for, role, extension_a):
    data = form_data({"number": "1234", "credit": "1"})
    response = client_for(role).post(add_url(extension_a), data)
    expected = POST_EXPECTED[role]
    assert response.status_code == expected
    assert numbers(extension_a) == (["1234"] if role in ("admin", "reseller_a") else [])


def test_the_form_shows_the_room_ten_rows_a_key_and_the_import_link(client_for, extension_a):
    html = client_for("reseller_a").get(add_url(extension_a)).content.decode()
    assert "You can add" in html
    assert len(re.findall(r'name="rows-\d+-number"', html)) == 10
    assert re.search(r'name="one_time_key" value="[0-9a-f-]{36}"', html)
    assert f'href="{reverse("callerids:import", args=[extension_a.pk])}"' in html
    assert "Import from file" in html
    assert ">OK<" in html and ">Cancel<" in html


def test_each_showing_of_the_form_has_a_new_key(client_for, extension_a):
    client = client_for("reseller_a")
    keys = {
        re.search(
            r'name="one_time_key" value="([^"]+)"',
            client.get(add_url(extension_a)).content.decode(),
        ).group(1)
        for _ in range(2)
    }
    assert len(keys) == 2


def test_unlimited_is_offered_but_never_ticked_by_default(client_for, extension_a):
    html = client_for("reseller_a").get(add_url(extension_a)).content.decode()
    boxes = re.findall(r'<input[^>]*name="rows-\d+-unlimited"[^>]*>', html)
    assert len(boxes) == 10
    assert not [box for box in boxes if "checked" in box]


def test_a_row_with_only_a_number_starts_limited_with_zero(client_for, extension_a):
    client = client_for("reseller_a")
    data = form_values(client.get(add_url(extension_a)).content.decode(), FORM_LABEL)
    data["rows-0-number"] = "1234"
    assert client.post(add_url(extension_a), data).status_code == 302
    callerid = AuthorizedCallerID.objects.get(extension=extension_a)
    assert (callerid.unlimited, callerid.available, callerid.total) == (False, 0, 0)


def test_an_amount_typed_into_a_row_as_shown_is_accepted(client_for, extension_a):
    client = client_for("reseller_a")
    data = form_values(client.get(add_url(extension_a)).content.decode(), FORM_LABEL)
    data.update({"rows-0-number": "1234", "rows-0-credit": "7.50"})
    assert client.post(add_url(extension_a), data).status_code == 302
    callerid = AuthorizedCallerID.objects.get(extension=extension_a)
    assert (callerid.unlimited, callerid.available) == (False, Decimal("7.5"))


def test_unlimited_is_absent_for_who_may_not_grant_it(client_for, extension_b):
    html = client_for("reseller_b").get(add_url(extension_b)).content.decode()
    assert "unlimited" not in html.lower().replace("tick unlimited", "")


def test_it_adds_three_rows_and_ignores_empty_ones(client_for, extension_a):
    prefs = get_preferences()
    prefs.default_country = "RO"
    prefs.save()
    data = form_data(
        {
            "number": "0721 000 123",
            "pin": "4321",
            "credit": "12.50",
            "unlimited": False,
            "order_number": " ORD-1 ",
        },
        {"number": "1234"},
        {},
        {"number": "5678", "credit": "0", "unlimited": False},
        unlimited_boxes=True,
    )
    response = client_for("reseller_a").post(add_url(extension_a), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("callerids:list", args=[extension_a.pk])
    messages = " ".join(str(m) for m in response.context["messages"])
    assert "Added 3 authorized CallerIDs" in messages
    by_number = {c.number: c for c in AuthorizedCallerID.objects.filter(extension=extension_a)}
    assert sorted(by_number) == ["+40721000123", "1234", "5678"]
    first = by_number["+40721000123"]
    assert check_pin("4321", first.pin_salt, first.pin_hash)
    assert (first.unlimited, first.available, first.total) == (
        False,
        Decimal("12.5"),
        Decimal("12.5"),
    )
    assert by_number["1234"].unlimited and not by_number["1234"].has_pin
    assert by_number["5678"].available == 0 and not by_number["5678"].unlimited
    assert first.ledger.get().order_number == "ORD-1"


def test_a_user_without_unlimited_gets_zero_credit_for_an_empty_amount(client_for, extension_b):
    client_for("reseller_b").post(add_url(extension_b), form_data({"number": "1234"}))
    callerid = AuthorizedCallerID.objects.get(extension=extension_b)
    assert (callerid.unlimited, callerid.available) == (False, Decimal("0"))


def test_a_forged_unlimited_is_ignored_for_who_may_not_grant_it(client_for, extension_b):
    data = form_data({"number": "1234", "unlimited": "on"})
    client_for("reseller_b").post(add_url(extension_b), data)
    assert not AuthorizedCallerID.objects.get(extension=extension_b).unlimited


@pytest.mark.parametrize(
    "row, message",
    [
        ({"number": "1234", "credit": "1,5"}, "Use a dot as the decimal separator."),
        ({"number": "1234", "credit": "1.555"}, "Use at most 2 decimals."),
        ({"number": "1234", "credit": "1000000.01"}, "moves at most 1,000,000.00 EUR."),
        ({"number": "1234", "credit": "-1"}, "Enter an amount of 0 or more."),
        (
            {"number": "1234", "credit": "5", "unlimited": "on"},
            "Enter an amount or tick Unlimited, not both.",
        ),
        ({"number": "1234", "pin": "12"}, "A PIN has 4 to 10 digits."),
        ({"number": "1234", "pin": "12ab"}, "A PIN has 4 to 10 digits."),
        ({"pin": "1234"}, "Enter the callback number."),
        ({"number": "12"}, "digits"),
        ({"number": "abc"}, ""),
        ({"number": "1234", "order_number": "x" * 65}, "at most 64 characters"),
    ],
)
def test_a_bad_row_shows_its_error_and_nothing_is_saved(client_for, extension_a, row, message):
    data = form_data({"number": "5555", "unlimited": False}, row)
    response = client_for("reseller_a").post(add_url(extension_a), data)
    assert response.status_code == 200
    form = response.context["formset"].forms[1]
    assert form.errors, "the error sits on the second row"
    assert message in " ".join(str(e) for errors in form.errors.values() for e in errors)
    assert not response.context["formset"].forms[0].errors
    assert numbers(extension_a) == []


def test_duplicates_are_shown_on_their_rows_and_nothing_is_saved(client_for, extension_a):
    add(extension_a, "1234")
    data = form_data({"number": "7777", "unlimited": False}, {"number": "1234"}, {"number": "7777"})
    response = client_for("reseller_a").post(add_url(extension_a), data)
    forms = response.context["formset"].forms
    assert "1234 is already on this extension" in " ".join(forms[1].non_field_errors())
    assert "also on row 1" in " ".join(forms[2].non_field_errors())
    assert not forms[0].errors
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert numbers(extension_a) == ["1234"]


def test_an_empty_form_asks_for_a_number(client_for, extension_a):
    response = client_for("reseller_a").post(add_url(extension_a), form_data(unlimited_boxes=True))
    assert "Enter at least one callback number." in response.content.decode()


def test_more_than_ten_rows_are_refused(client_for, extension_a):
    rows = [{"number": str(1000 + i)} for i in range(11)]
    response = client_for("reseller_a").post(add_url(extension_a), form_data(*rows, total=11))
    assert response.status_code == 200
    assert numbers(extension_a) == []


def test_a_missing_management_form_or_key_does_not_break(client_for, extension_a):
    client = client_for("reseller_a")
    assert client.post(add_url(extension_a), {"one_time_key": str(uuid.uuid4())}).status_code == 200
    data = form_data({"number": "1234"})
    data["one_time_key"] = "not-a-uuid"
    response = client.post(add_url(extension_a), data)
    assert response.status_code == 200
    assert "one-time key" in response.content.decode()
    assert numbers(extension_a) == []


def test_the_same_form_sent_twice_adds_once(client_for, extension_a):
    data = form_data({"number": "1234"}, {"number": "5678"}, key=uuid.uuid4())
    client = client_for("reseller_a")
    client.post(add_url(extension_a), data)
    response = client.post(add_url(extension_a), data, follow=True)
    assert numbers(extension_a) == ["1234", "5678"]
    messages = " ".join(str(m) for m in response.context["messages"])
    assert re.search(r"Already applied at \d\d:\d\d", messages)


def test_adding_past_the_license_shows_the_refusal(client_for, extension_a):
    add(extension_a, "1111")
    license = get_license()
    license.max_active_callerids = 2
    license.save()
    data = form_data({"number": "2222"}, {"number": "3333"}, {"number": "4444"})
    response = client_for("reseller_a").post(add_url(extension_a), data)
    assert response.status_code == 200
    assert "Adding 3 would exceed the license by 2" in response.content.decode()
    assert numbers(extension_a) == ["1111"]


def test_the_form_says_when_there_is_no_room(client_for, extension_a):
    add(extension_a, "1111")
    license = get_license()
    license.max_active_callerids = 1
    license.save()
    html = client_for("reseller_a").get(add_url(extension_a)).content.decode()
    assert "No license room left" in html


def test_later_rows_open_when_they_hold_an_error(client_for, extension_a):
    rows = [{"number": str(1000 + i)} for i in range(4)] + [{"number": "x"}]
    response = client_for("reseller_a").post(add_url(extension_a), form_data(*rows))
    assert response.context["more_open"]
    assert client_for("reseller_a").get(add_url(extension_a)).context["more_open"] is False


def test_the_form_takes_a_bounded_number_of_queries(
    client_for, extension_a, django_assert_max_num_queries
):
    client = client_for("reseller_a")
    client.get(add_url(extension_a))
    with django_assert_max_num_queries(10):
        client.get(add_url(extension_a))
