"""The S toggle and the bulk actions of the Authorized CallerIDs page (SPEC §4)."""

import pytest
from django.urls import reverse

from callerids.models import AuthorizedCallerID
from callerids.selectors import get_license
from callerids.services.callerids import disable_callerid, remove_callerid
from tenancy.audit import SYSTEM
from tests.callerids.pages_support import add, statuses
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

# Who may press the buttons on extension A's page.
EXPECTED = {
    "admin": 302,
    "reseller_a": 302,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


def bulk_url(extension):
    return reverse("callerids:bulk", args=[extension.pk])


def toggle_url(callerid):
    return reverse("callerids:toggle", args=[callerid.pk])


def list_url(extension):
    return reverse("callerids:list", args=[extension.pk])


def follow_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("role", ROLES)
def test_toggle_role_matrix(client_for, role, extension_a):
    callerid = add(extension_a, "1234")[0]
    response = client_for(role).post(toggle_url(callerid))
    assert response.status_code == EXPECTED[role]
    changed = role in ("admin", "reseller_a")
    assert statuses(callerid) == ["disabled" if changed else "enabled"]
    if changed:
        assert response.url == list_url(extension_a)


@pytest.mark.parametrize("role", ROLES)
def test_bulk_role_matrix(client_for, role, extension_a):
    one, two = add(extension_a, "1111", "2222")
    response = client_for(role).post(
        bulk_url(extension_a), {"action": "disable", "ids": [one.pk, two.pk]}
    )
    assert response.status_code == EXPECTED[role]
    changed = role in ("admin", "reseller_a")
    assert statuses(one, two) == ["disabled" if changed else "enabled"] * 2


@pytest.mark.parametrize("role", ROLES)
def test_confirm_remove_role_matrix(client_for, role, extension_a):
    one = add(extension_a, "1111")[0]
    response = client_for(role).post(
        bulk_url(extension_a), {"action": "confirm_remove", "ids": [one.pk]}
    )
    assert response.status_code == EXPECTED[role]
    assert statuses(one) == ["removed" if role in ("admin", "reseller_a") else "enabled"]


@pytest.mark.parametrize("role", ROLES)
def test_get_on_the_post_endpoints_changes_nothing(client_for, role, extension_a):
    callerid = add(extension_a, "1234")[0]
    client = client_for(role)
    for target in (toggle_url(callerid), bulk_url(extension_a)):
        response = client.get(target, {"action": "confirm_remove", "ids": [callerid.pk]})
        assert response.status_code in (405, 302)  # 302: anonymous goes to log in first
        if role != "anonymous":
            assert response.status_code == 405
    assert statuses(callerid) == ["enabled"]


def test_toggle_enables_a_disabled_one_and_keeps_the_search(client_for, extension_a):
    callerid = add(extension_a, "1234")[0]
    disable_callerid(actor=SYSTEM, callerid=callerid)
    response = client_for("reseller_a").post(
        toggle_url(callerid), {"querystring": "q=12&status=disabled&evil=1&page=2"}
    )
    assert statuses(callerid) == ["enabled"]
    assert response.url == list_url(extension_a) + "?q=12&status=disabled&page=2"


def test_toggle_re_enables_a_pin_locked_one(client_for, extension_a):
    callerid = add(extension_a, "1234", pin="1111")[0]
    disable_callerid(actor=SYSTEM, callerid=callerid)
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(
        status_reason="locked", wrong_pin_count=5
    )
    client_for("reseller_a").post(toggle_url(callerid))
    callerid.refresh_from_db()
    assert (callerid.status, callerid.status_reason, callerid.wrong_pin_count) == ("enabled", "", 0)


def test_toggle_without_license_room_shows_the_refusal(client_for, extension_a):
    on, off = add(extension_a, "1111", "2222")
    disable_callerid(actor=SYSTEM, callerid=off)
    license = get_license()
    license.max_active_callerids = 1
    license.save()
    response = client_for("reseller_a").post(toggle_url(off), follow=True)
    assert statuses(off) == ["disabled"]
    assert "Enabling 1 would exceed the license by 1" in follow_messages(response)


def test_toggle_on_a_removed_one_changes_nothing(client_for, extension_a):
    callerid = add(extension_a, "1234")[0]
    remove_callerid(actor=SYSTEM, callerid=callerid)
    response = client_for("reseller_a").post(toggle_url(callerid), follow=True)
    assert statuses(callerid) == ["removed"]
    assert "removed" in follow_messages(response)


def test_toggle_of_another_resellers_callerid_is_not_found(client_for, extension_b):
    callerid = add(extension_b, "1234")[0]
    assert client_for("reseller_a").post(toggle_url(callerid)).status_code == 404
    assert statuses(callerid) == ["enabled"]


def test_remove_asks_for_confirmation_and_changes_nothing_yet(client_for, extension_a):
    one, two, three = add(extension_a, "1111", "2222", "3333")
    response = client_for("reseller_a").post(
        bulk_url(extension_a), {"action": "remove", "ids": [one.pk, three.pk], "querystring": "q=1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm removal" in html
    listed = html.split('data-testid="numbers-to-remove"', 1)[1].split("</ul>", 1)[0]
    assert "1111" in listed and "3333" in listed and "2222" not in listed
    assert 'name="action" value="confirm_remove"' in html
    assert statuses(one, two, three) == ["enabled"] * 3


def test_confirm_removal_removes_them_and_frees_the_license(client_for, extension_a):
    one, two = add(extension_a, "1111", "2222")
    before = get_license().active_callerids
    response = client_for("reseller_a").post(
        bulk_url(extension_a), {"action": "confirm_remove", "ids": [one.pk]}, follow=True
    )
    assert statuses(one, two) == ["removed", "enabled"]
    assert get_license().active_callerids == before - 1
    assert "Removed 1 CallerID." in follow_messages(response)


def test_another_resellers_ids_slipped_into_a_bulk_action_change_nothing(
    client_for, extension_a, extension_b
):
    mine = add(extension_a, "1111")[0]
    theirs = add(extension_b, "2222")[0]
    client = client_for("reseller_a")
    for action in ("disable", "confirm_remove"):
        client.post(bulk_url(extension_a), {"action": action, "ids": [theirs.pk]})
    assert statuses(theirs) == ["enabled"]
    client.post(bulk_url(extension_a), {"action": "disable", "ids": [mine.pk, theirs.pk]})
    assert statuses(mine, theirs) == ["disabled", "enabled"]
    client.post(bulk_url(extension_a), {"action": "confirm_remove", "ids": [mine.pk, theirs.pk]})
    assert statuses(mine, theirs) == ["removed", "enabled"]


def test_another_extensions_ids_change_nothing_even_for_an_admin(
    client_for, extension_a, extension_b
):
    theirs = add(extension_b, "2222")[0]
    client_for("admin").post(bulk_url(extension_a), {"action": "disable", "ids": [theirs.pk]})
    assert statuses(theirs) == ["enabled"]


def test_a_reseller_cannot_act_on_another_resellers_extension(client_for, extension_b):
    theirs = add(extension_b, "2222")[0]
    response = client_for("reseller_a").post(
        bulk_url(extension_b), {"action": "disable", "ids": [theirs.pk]}
    )
    assert response.status_code == 404
    assert statuses(theirs) == ["enabled"]


def test_enable_is_all_or_none_with_the_services_refusal(client_for, extension_a):
    callerids = add(extension_a, "1111", "2222", "3333")
    client = client_for("reseller_a")
    client.post(bulk_url(extension_a), {"action": "disable", "ids": [c.pk for c in callerids]})
    license = get_license()
    license.max_active_callerids = 1
    license.save()
    response = client.post(
        bulk_url(extension_a),
        {"action": "enable", "ids": [c.pk for c in callerids]},
        follow=True,
    )
    assert statuses(*callerids) == ["disabled"] * 3
    assert "Enabling 3 would exceed the license by 2" in follow_messages(response)


def test_enable_and_disable_report_what_changed(client_for, extension_a):
    one, two = add(extension_a, "1111", "2222")
    client = client_for("reseller_a")
    client.post(bulk_url(extension_a), {"action": "disable", "ids": [one.pk]})
    response = client.post(
        bulk_url(extension_a), {"action": "enable", "ids": [one.pk, two.pk]}, follow=True
    )
    assert statuses(one, two) == ["enabled", "enabled"]
    assert "Enabled 1 CallerID. 1 was already enabled." in follow_messages(response)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "disable"}, "Select at least one CallerID first."),
        ({"action": "disable", "ids": ["x", "-1", ""]}, "Select at least one CallerID first."),
        ({"action": "explode", "ids": ["1"]}, "Choose Remove selected, Enable or Disable."),
        ({}, "Choose Remove selected, Enable or Disable."),
    ],
)
def test_bad_bulk_posts_are_refused_with_a_message(client_for, extension_a, data, message):
    callerid = add(extension_a, "1234")[0]
    response = client_for("reseller_a").post(bulk_url(extension_a), data, follow=True)
    assert response.status_code == 200
    assert message in follow_messages(response)
    assert statuses(callerid) == ["enabled"]


def test_removed_ones_are_left_out_of_the_confirmation(client_for, extension_a):
    gone, kept = add(extension_a, "1111", "2222")
    remove_callerid(actor=SYSTEM, callerid=gone)
    html = (
        client_for("reseller_a")
        .post(bulk_url(extension_a), {"action": "remove", "ids": [gone.pk, kept.pk]})
        .content.decode()
    )
    listed = html.split('data-testid="numbers-to-remove"', 1)[1].split("</ul>", 1)[0]
    assert "2222" in listed and "1111" not in listed


def test_the_bulk_actions_take_a_bounded_number_of_queries(
    client_for, extension_a, django_assert_max_num_queries
):
    callerids = add(extension_a, *[str(5000 + i) for i in range(10)])
    client = client_for("reseller_a")
    ids = [c.pk for c in callerids]
    with django_assert_max_num_queries(12):
        client.post(bulk_url(extension_a), {"action": "remove", "ids": ids})
    with django_assert_max_num_queries(60):  # a lock, an update and an audit row per CallerID
        client.post(bulk_url(extension_a), {"action": "disable", "ids": ids})
