"""The license cap (SPEC §2, §4): only enabled CallerIDs count, on the server and against
the reseller's share; every path that raises the count is refused at the cap."""

from decimal import Decimal

import pytest

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import get_license, room_for_reseller, room_left
from callerids.services.callerids import (
    add_callerids,
    disable_callerids,
    edit_callerid,
    enable_callerid,
    enable_callerids,
    remove_callerids,
)
from callerids.services.validation import NewCallerID
from credit.checks import counter_failures
from tenancy.audit import SYSTEM, Actor
from tenancy.models import Reseller
from values.errors import LicenseExceeded

pytestmark = pytest.mark.django_db


def set_license(maximum):
    license = get_license()
    License.objects.filter(pk=license.pk).update(max_active_callerids=maximum)


def set_share(reseller, maximum):
    Reseller.objects.filter(pk=reseller.pk).update(max_active_callerids=maximum)


def add(extension, *numbers):
    """Add the numbers, ten per form (the add form's maximum)."""
    added = []
    for start in range(0, len(numbers), 10):
        rows = [NewCallerID(n) for n in numbers[start : start + 10]]
        added += add_callerids(actor=SYSTEM, extension=extension, rows=rows).callerids
    return added


@pytest.fixture
def alice(reseller_a_user):
    return Actor(user=reseller_a_user)


def assert_counters_true():
    assert counter_failures() == []


def test_adding_past_the_server_license_is_refused_and_saves_nothing(extension_a):
    set_license(3)
    add(extension_a, "1001", "1002")
    with pytest.raises(LicenseExceeded, match=r"^\['Adding 2 would exceed the license by 1\.'\]$"):
        add(extension_a, "1003", "1004")
    assert AuthorizedCallerID.objects.count() == 2
    add(extension_a, "1003")
    assert get_license().active_callerids == 3
    assert_counters_true()


def test_adding_past_the_resellers_share_is_refused(extension_a, reseller_a, extension_b):
    set_share(reseller_a, 1)
    add(extension_a, "1001")
    with pytest.raises(LicenseExceeded, match="share of the license of Reseller A by 1"):
        add(extension_a, "1002")
    add(extension_b, "1002")  # another reseller's share is not touched
    assert_counters_true()


def test_enabling_one_at_the_cap_is_refused(alice, extension_a):
    set_license(2)
    first, second = add(extension_a, "1001", "1002")
    disable_callerids(actor=alice, ids=[second.pk])
    add(extension_a, "1003")
    with pytest.raises(LicenseExceeded, match="Enabling 1 would exceed the license by 1"):
        enable_callerid(actor=alice, callerid=second)
    second.refresh_from_db()
    assert second.status == CallerIDStatus.DISABLED
    assert_counters_true()


def test_bulk_enable_is_all_or_none(alice, extension_a):
    set_license(60)
    callerids = add(extension_a, *[f"{1000 + i}" for i in range(60)])
    disable_callerids(actor=alice, ids=[c.pk for c in callerids[:50]])
    add(extension_a, *[f"{2000 + i}" for i in range(40)])
    assert get_license().active_callerids == 50
    with pytest.raises(LicenseExceeded, match="Enabling 50 would exceed the license by 40"):
        enable_callerids(actor=alice, ids=[c.pk for c in callerids])
    assert AuthorizedCallerID.objects.filter(status="enabled").count() == 50
    assert get_license().active_callerids == 50
    assert_counters_true()


def test_editing_to_enabled_at_the_cap_is_refused_and_changes_nothing(alice, extension_a):
    set_license(1)
    callerid = add(extension_a, "1001")[0]
    disable_callerids(actor=alice, ids=[callerid.pk])
    add(extension_a, "1002")
    with pytest.raises(LicenseExceeded):
        edit_callerid(actor=alice, callerid=callerid, number="1003", status="enabled")
    callerid.refresh_from_db()
    assert (callerid.number, callerid.status) == ("1001", "disabled")
    assert_counters_true()


def test_the_share_binds_before_the_server_when_smaller(alice, extension_a, reseller_a):
    set_license(100)
    set_share(reseller_a, 3)
    one, two, three = add(extension_a, "1001", "1002", "1003")
    disable_callerids(actor=alice, ids=[one.pk, two.pk])
    set_share(reseller_a, 2)
    enable_callerids(actor=alice, ids=[one.pk])
    with pytest.raises(LicenseExceeded, match="share of the license of Reseller A by 1"):
        enable_callerids(actor=alice, ids=[two.pk])
    assert_counters_true()


def test_a_lowered_license_keeps_existing_ones_and_refuses_new_activations(alice, extension_a):
    set_license(5)
    callerids = add(extension_a, "1001", "1002", "1003", "1004")
    set_license(2)
    assert AuthorizedCallerID.objects.filter(status="enabled").count() == 4
    with pytest.raises(LicenseExceeded, match="Adding 1 would exceed the license by 3"):
        add(extension_a, "1005")
    disable_callerids(actor=alice, ids=[callerids[0].pk])
    with pytest.raises(LicenseExceeded):
        enable_callerid(actor=alice, callerid=callerids[0])
    remove_callerids(actor=alice, ids=[c.pk for c in callerids[1:3]])
    assert get_license().active_callerids == 1
    enable_callerid(actor=alice, callerid=callerids[0])
    assert get_license().active_callerids == 2
    assert_counters_true()


def test_disabling_and_removing_always_work_at_the_cap(alice, extension_a):
    set_license(1)
    callerid = add(extension_a, "1001")[0]
    set_license(0)
    disable_callerids(actor=alice, ids=[callerid.pk])
    remove_callerids(actor=alice, ids=[callerid.pk])
    assert get_license().active_callerids == 0
    assert_counters_true()


def test_room_left_for_server_wide_users_is_n_of_m(cast, extension_a):
    set_license(10)
    add(extension_a, "1001", "1002")
    for role in ("admin", "staff_server"):
        room = room_left(cast[role])
        assert (room.used, room.maximum, room.left) == (2, 10, 8)
        assert room.text == "2 of 10 active authorized CallerIDs used on this server"


def test_room_left_for_reseller_users_is_the_smaller_room(cast, extension_a, reseller_a):
    set_license(10)
    add(extension_a, "1001", "1002")
    assert room_left(cast["reseller_a"]).left == 8
    set_share(reseller_a, 3)
    room = room_left(cast["staff_a"])
    assert (room.left, room.used, room.maximum) == (1, None, None)
    assert room.text == "You can add 1 more"
    assert room_left(cast["reseller_b"]).left == 8
    set_license(1)
    assert room_left(cast["reseller_b"]).left == 0
    assert room_for_reseller(Reseller.objects.get(pk=reseller_a.pk)) == 0
    assert room_left(None).left == 0


def test_room_left_reads_counters_not_rows(cast, extension_a, django_assert_max_num_queries):
    add(extension_a, "1001")
    user = cast["reseller_a"]
    with django_assert_max_num_queries(3) as captured:
        room_left(user)
    assert not any("count(" in q["sql"].lower() for q in captured.captured_queries)


def test_unlimited_initial_credit_still_counts_once(extension_a):
    set_license(1)
    add_callerids(actor=SYSTEM, extension=extension_a, rows=[NewCallerID("1001", unlimited=True)])
    with pytest.raises(LicenseExceeded):
        add_callerids(
            actor=SYSTEM,
            extension=extension_a,
            rows=[NewCallerID("1002", credit=Decimal("1"))],
        )
