"""The edit form of one authorized CallerID (SPEC §5.3)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from callerids.models import AuthorizedCallerID
from callerids.pins import check_pin
from callerids.selectors import get_license
from callerids.services.callerids import disable_callerid, remove_callerid
from tenancy.audit import SYSTEM
from tests.callerids.pages_support import add
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

POST_EXPECTED = {
    "admin": 302,
    "reseller_a": 302,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


def edit_url(callerid):
    return reverse("callerids:edit", args=[callerid.pk])


def fresh(callerid):
    return AuthorizedCallerID.objects.get(pk=callerid.pk)


@pytest.fixture
def callerid(extension_a):
    return add(extension_a, "1234", pin="4321", credit=Decimal("7"))[0]


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize("role", ROLES)
def test_post_role_matrix(client_for, role, callerid):
    response = client_for(role).post(edit_url(callerid), {"number": "5555", "status": "enabled"})
    assert response.status_code == POST_EXPECTED[role]
    assert fresh(callerid).number == ("5555" if role in ("admin", "reseller_a") else "1234")


def test_the_form_shows_the_current_values_and_no_credit_field(client_for, callerid):
    response = client_for("reseller_a").get(edit_url(callerid))
    form = response.context["form"]
    assert form.initial == {"number": "1234", "status": "enabled"}
    assert set(form.fields) == {"number", "pin", "remove_pin", "status"}
    html = response.content.decode()
    assert "7.00" in html  # shown, not editable
    assert reverse("credit:callerid_credit", args=[callerid.pk]) in html


def test_it_changes_the_number_and_goes_back_to_the_list(client_for, callerid, extension_a):
    response = client_for("reseller_a").post(
        edit_url(callerid), {"number": "55 55", "status": "enabled"}
    )
    assert response.url == reverse("callerids:list", args=[extension_a.pk])
    saved = fresh(callerid)
    assert saved.number == "5555"
    assert check_pin("4321", saved.pin_salt, saved.pin_hash)


def test_a_new_pin_resets_the_wrong_pin_count(client_for, callerid):
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(wrong_pin_count=3)
    client_for("reseller_a").post(
        edit_url(callerid), {"number": "1234", "pin": "998877", "status": "enabled"}
    )
    saved = fresh(callerid)
    assert check_pin("998877", saved.pin_salt, saved.pin_hash)
    assert saved.wrong_pin_count == 0


def test_remove_pin_drops_it_and_resets_the_count(client_for, callerid):
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(wrong_pin_count=2)
    client_for("reseller_a").post(
        edit_url(callerid), {"number": "1234", "remove_pin": "on", "status": "enabled"}
    )
    saved = fresh(callerid)
    assert not saved.has_pin and saved.wrong_pin_count == 0


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"number": "1234", "pin": "1"}, "pin", "A PIN has 4 to 10 digits."),
        ({"number": "1234", "pin": "1234", "remove_pin": "on"}, "remove_pin", "not both"),
        ({"number": "12"}, "number", "digits"),
        ({"number": ""}, "number", "required"),
        ({"number": "1234", "status": "removed"}, "status", "valid choice"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client_for, callerid, data, field, message):
    response = client_for("reseller_a").post(edit_url(callerid), {"status": "enabled", **data})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert fresh(callerid).number == "1234" and fresh(callerid).status == "enabled"


def test_a_duplicate_number_names_the_existing_entry(client_for, callerid, extension_a):
    other = add(extension_a, "5555")[0]
    response = client_for("reseller_a").post(
        edit_url(callerid), {"number": "5555", "status": "enabled"}
    )
    errors = " ".join(response.context["form"].errors["number"])
    assert f"CallerID #{other.pk}" in errors
    assert fresh(callerid).number == "1234"


def test_disabling_and_enabling(client_for, callerid):
    client = client_for("reseller_a")
    client.post(edit_url(callerid), {"number": "1234", "status": "disabled"})
    assert fresh(callerid).status == "disabled"
    client.post(edit_url(callerid), {"number": "1234", "status": "enabled"})
    assert fresh(callerid).status == "enabled"


def test_enabling_without_room_is_refused_next_to_the_status(client_for, callerid, extension_a):
    disable_callerid(actor=SYSTEM, callerid=callerid)
    add(extension_a, "9999")
    license = get_license()
    license.max_active_callerids = 1
    license.save()
    response = client_for("reseller_a").post(
        edit_url(callerid), {"number": "1234", "status": "enabled"}
    )
    assert "would exceed the license by 1" in " ".join(response.context["form"].errors["status"])
    assert fresh(callerid).status == "disabled"


def test_a_pin_locked_callerid_says_so_and_enabling_unlocks_it(client_for, callerid, extension_a):
    disable_callerid(actor=SYSTEM, callerid=callerid)
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(
        status_reason="locked",
        wrong_pin_count=extension_a.pin_lock_limit,
        locked_after_pins=extension_a.pin_lock_limit,
    )
    client = client_for("reseller_a")
    html = client.get(edit_url(callerid)).content.decode()
    assert f"Locked after {extension_a.pin_lock_limit} wrong PINs" in html
    client.post(edit_url(callerid), {"number": "1234", "status": "enabled"})
    saved = fresh(callerid)
    assert (saved.status, saved.status_reason, saved.wrong_pin_count) == ("enabled", "", 0)


def test_a_removed_callerid_is_shown_read_only_and_a_post_is_refused(client_for, callerid):
    remove_callerid(actor=SYSTEM, callerid=callerid)
    client = client_for("reseller_a")
    response = client.get(edit_url(callerid))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This CallerID was removed" in html and 'aria-label="Edit CallerID"' not in html
    response = client.post(edit_url(callerid), {"number": "5555", "status": "enabled"})
    assert response.status_code == 409
    assert fresh(callerid).number == "1234" and fresh(callerid).status == "removed"


def test_the_form_takes_a_bounded_number_of_queries(
    client_for, callerid, django_assert_max_num_queries
):
    client = client_for("reseller_a")
    client.get(edit_url(callerid))
    with django_assert_max_num_queries(10):
        client.get(edit_url(callerid))
