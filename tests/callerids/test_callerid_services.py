"""Add, edit, enable, disable and remove authorized CallerIDs (SPEC §4, §5), as services."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from callerids.models import AuthorizedCallerID, CallerIDStatus, SubmissionKey
from callerids.pins import check_pin
from callerids.selectors import get_license
from callerids.services.callerids import (
    add_callerids,
    disable_callerid,
    disable_callerids,
    edit_callerid,
    enable_callerid,
    enable_callerids,
    remove_callerid,
    remove_callerids,
)
from callerids.services.validation import NewCallerID, RowErrors
from credit.models import LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM, Actor
from tenancy.models import AuditEvent
from tenancy.preferences import get_preferences
from values.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(admin_user):
    return Actor(user=admin_user, address="192.0.2.1")


@pytest.fixture
def alice(reseller_a_user):
    return Actor(user=reseller_a_user, address="192.0.2.2")


@pytest.fixture
def ro_country(db):
    prefs = get_preferences()
    prefs.default_country = "RO"
    prefs.save()
    return prefs


def add_one(extension, number="1234", actor=SYSTEM, **kwargs):
    return add_callerids(actor=actor, extension=extension, rows=[NewCallerID(number, **kwargs)])


def test_it_adds_rows_enabled_with_an_initial_ledger_row_each(alice, extension_a, ro_country):
    result = add_callerids(
        actor=alice,
        extension=extension_a,
        rows=[
            NewCallerID("0721 000 123", pin="1234", credit=Decimal("5.50"), order_number=" O-1 "),
            NewCallerID("1234", credit=Decimal("0")),
            NewCallerID("1235", unlimited=True),
        ],
    )
    first, second, third = result.callerids
    assert not result.already_applied
    assert first.number == "+40721000123"
    assert first.status == CallerIDStatus.ENABLED
    assert check_pin("1234", first.pin_salt, first.pin_hash)
    assert (first.available, first.total) == (Decimal("5.50"), Decimal("5.50"))
    assert (second.available, second.total, second.unlimited) == (0, 0, False)
    assert (third.available, third.total, third.unlimited) == (None, None, True)
    entries = {e.callerid_id: e for e in LedgerEntry.objects.all()}
    assert len(entries) == 3
    assert entries[first.pk].kind == LedgerKind.INITIAL
    assert entries[first.pk].order_number == "O-1"
    assert entries[first.pk].actor_username == "alice"
    assert entries[second.pk].amount == 0
    assert entries[third.pk].amount is None and entries[third.pk].balance_after is None
    assert get_license().active_callerids == 3
    extension_a.organization.reseller.refresh_from_db()
    assert extension_a.organization.reseller.active_callerids == 3
    assert AuditEvent.objects.filter(action="callerid.add").count() == 3


def test_the_audit_event_shows_the_pin_only_as_changed(alice, extension_a):
    callerid = add_one(extension_a, actor=alice, pin="4321").callerids[0]
    event = AuditEvent.objects.get(action="callerid.add", object_id=str(callerid.pk))
    assert event.after["pin_hash"] == "changed"
    assert "4321" not in str(event.after)
    assert callerid.pin_salt not in str(event.after)


def test_it_saves_nothing_when_one_row_is_bad_and_names_each_bad_row(alice, extension_a):
    with pytest.raises(RowErrors) as caught:
        add_callerids(
            actor=alice,
            extension=extension_a,
            rows=[
                NewCallerID("1234"),
                NewCallerID("12", pin="12"),
                NewCallerID("1 2 3 4"),
                NewCallerID("5555", credit=Decimal("1.234")),
                NewCallerID("5556", order_number="x" * 65),
                NewCallerID("5557", credit=Decimal("1"), unlimited=True),
            ],
        )
    errors = caught.value.row_errors
    assert sorted(errors) == [1, 2, 3, 4, 5]
    assert "A callback number has 3 to 15 digits." in errors[1]
    assert "A PIN has 4 to 10 digits." in errors[1]
    assert errors[2] == ["1234 is also on row 1 of this form."]
    assert errors[3] == ["Use at most 2 decimals."]
    assert errors[4] == ["An order number has at most 64 characters."]
    assert errors[5] == ["Enter an amount or tick Unlimited, not both."]
    assert not AuthorizedCallerID.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert get_license().active_callerids == 0


def test_an_amount_above_one_million_is_refused(alice, extension_a):
    prefs = get_preferences()
    prefs.decimals = 4
    prefs.save()
    with pytest.raises(RowErrors) as caught:
        add_one(extension_a, actor=alice, credit=Decimal("1000000.0001"))
    assert caught.value.row_errors == {0: ["One operation moves at most 1,000,000.0000 EUR."]}
    assert add_one(extension_a, actor=alice, credit=Decimal("1000000")).callerids[0].total == (
        Decimal("1000000")
    )


def test_a_number_already_on_the_extension_is_refused_naming_the_entry(alice, extension_a):
    existing = add_one(extension_a, "+40721000123").callerids[0]
    with pytest.raises(RowErrors) as caught:
        add_callerids(
            actor=alice,
            extension=extension_a,
            rows=[NewCallerID("5555"), NewCallerID("0040 721 000 123")],
        )
    [message] = caught.value.row_errors[1]
    assert message.startswith(f"+40721000123 is already on this extension (CallerID #{existing.pk}")
    assert AuthorizedCallerID.objects.count() == 1


def test_the_same_number_may_be_on_another_extension(extension_a, extension_b):
    add_one(extension_a, "1234")
    assert add_one(extension_b, "1234").callerids[0].extension == extension_b


def test_more_than_ten_rows_or_none_are_refused(alice, extension_a):
    with pytest.raises(DomainError, match="at most 10"):
        add_callerids(
            actor=alice,
            extension=extension_a,
            rows=[NewCallerID(f"12345{i:02}") for i in range(11)],
        )
    with pytest.raises(DomainError, match="at least one"):
        add_callerids(actor=alice, extension=extension_a, rows=[])


def test_unlimited_needs_the_right_to_grant_it(reseller_b_user, extension_b, admin, extension_a):
    bob = Actor(user=reseller_b_user)
    with pytest.raises(NotAllowed):
        add_one(extension_b, actor=bob, unlimited=True)
    assert not AuthorizedCallerID.objects.exists()
    assert add_one(extension_b, actor=bob, credit=Decimal("3")).callerids[0].total == 3
    assert add_one(extension_a, actor=admin, unlimited=True).callerids[0].unlimited


def test_another_resellers_extension_is_not_found_and_staff_may_not_add(
    alice, extension_b, staff_a_user, extension_a
):
    with pytest.raises(Http404):
        add_one(extension_b, actor=alice)
    with pytest.raises(PermissionDenied):
        add_one(extension_a, actor=Actor(user=staff_a_user))
    assert not AuthorizedCallerID.objects.exists()


def test_a_resent_form_adds_once_and_returns_the_first_outcome(alice, extension_a):
    key = uuid.uuid4()
    rows = [NewCallerID("1234"), NewCallerID("1235")]
    first = add_callerids(actor=alice, extension=extension_a, rows=rows, one_time_key=key)
    again = add_callerids(actor=alice, extension=extension_a, rows=rows, one_time_key=str(key))
    assert again.already_applied
    assert [c.pk for c in again.callerids] == [c.pk for c in first.callerids]
    assert again.applied_at == SubmissionKey.objects.get(pk=key).created_at
    assert AuthorizedCallerID.objects.count() == 2
    assert get_license().active_callerids == 2


def test_editing_changes_the_number_and_refuses_a_duplicate(alice, extension_a, ro_country):
    one, two = add_callerids(
        actor=alice, extension=extension_a, rows=[NewCallerID("1234"), NewCallerID("1235")]
    ).callerids
    edited = edit_callerid(actor=alice, callerid=one, number="0721-000-123")
    assert edited.number == "+40721000123"
    with pytest.raises(DomainError, match=rf"already on this extension \(CallerID #{one.pk}"):
        edit_callerid(actor=alice, callerid=two.pk, number="+40 721 000 123")
    event = AuditEvent.objects.get(action="callerid.update")
    assert (event.before["number"], event.after["number"]) == ("1234", "+40721000123")


def test_setting_or_removing_a_pin_resets_the_wrong_pin_count(alice, extension_a):
    callerid = add_one(extension_a, pin="1111").callerids[0]
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(wrong_pin_count=3)
    edited = edit_callerid(actor=alice, callerid=callerid, pin="22222")
    assert check_pin("22222", edited.pin_salt, edited.pin_hash)
    assert edited.wrong_pin_count == 0
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(wrong_pin_count=2)
    edited = edit_callerid(actor=alice, callerid=callerid, remove_pin=True)
    assert not edited.has_pin and edited.pin_salt == ""
    assert edited.wrong_pin_count == 0
    events = AuditEvent.objects.filter(action="callerid.update").order_by("id")
    assert [e.after["pin_hash"] for e in events] == ["changed", ""]
    assert all("2222" not in str(e.before) + str(e.after) for e in events)


def test_a_bad_pin_or_both_pin_and_remove_are_refused(alice, extension_a):
    callerid = add_one(extension_a).callerids[0]
    with pytest.raises(DomainError, match="4 to 10 digits"):
        edit_callerid(actor=alice, callerid=callerid, pin="12a4")
    with pytest.raises(DomainError, match="not both"):
        edit_callerid(actor=alice, callerid=callerid, pin="1234", remove_pin=True)


def test_editing_the_status_moves_the_counters(alice, extension_a):
    callerid = add_one(extension_a).callerids[0]
    edit_callerid(actor=alice, callerid=callerid, status="disabled")
    assert get_license().active_callerids == 0
    edited = edit_callerid(actor=alice, callerid=callerid, status="enabled")
    assert edited.status == CallerIDStatus.ENABLED
    assert get_license().active_callerids == 1
    with pytest.raises(DomainError, match="Enabled or Disabled"):
        edit_callerid(actor=alice, callerid=callerid, status="removed")


def test_re_enabling_a_pin_locked_callerid_clears_the_lock(alice, extension_a):
    callerid = add_one(extension_a, pin="1234").callerids[0]
    disable_callerid(actor=alice, callerid=callerid)
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(
        status_reason="locked", wrong_pin_count=5
    )
    enabled = enable_callerid(actor=alice, callerid=callerid)
    assert (enabled.status, enabled.status_reason, enabled.wrong_pin_count) == ("enabled", "", 0)


def test_bulk_enable_and_disable_report_what_changed(alice, extension_a):
    one, two, three = add_callerids(
        actor=alice,
        extension=extension_a,
        rows=[NewCallerID("1231"), NewCallerID("1232"), NewCallerID("1233")],
    ).callerids
    result = disable_callerids(actor=alice, ids=[one.pk, str(two.pk), "junk"])
    assert result.changed == sorted([one.pk, two.pk])
    assert get_license().active_callerids == 1
    remove_callerid(actor=alice, callerid=three)
    result = enable_callerids(actor=alice, ids=[one.pk, two.pk, three.pk])
    assert result.changed == sorted([one.pk, two.pk])
    assert result.skipped_removed == [three.pk]
    assert get_license().active_callerids == 2
    assert enable_callerids(actor=alice, ids=[one.pk]).unchanged == [one.pk]
    assert AuditEvent.objects.filter(action="callerid.enable").count() == 2


def test_bulk_operations_ignore_ids_of_another_reseller(alice, extension_b):
    theirs = add_one(extension_b).callerids[0]
    assert disable_callerids(actor=alice, ids=[theirs.pk]).changed == []
    assert remove_callerids(actor=alice, ids=[theirs.pk]).changed == []
    theirs.refresh_from_db()
    assert theirs.status == CallerIDStatus.ENABLED
    with pytest.raises(Http404):
        disable_callerid(actor=alice, callerid=theirs)
    with pytest.raises(Http404):
        edit_callerid(actor=alice, callerid=theirs, number="9999")
    with pytest.raises(Http404):
        edit_callerid(actor=alice, callerid=theirs, status="disabled")


def test_staff_may_not_change_callerids(staff_a_user, extension_a):
    callerid = add_one(extension_a).callerids[0]
    staff = Actor(user=staff_a_user)
    for call in (
        lambda: edit_callerid(actor=staff, callerid=callerid, number="9999"),
        lambda: disable_callerid(actor=staff, callerid=callerid),
        lambda: disable_callerids(actor=staff, ids=[callerid.pk]),
        lambda: remove_callerids(actor=staff, ids=[callerid.pk]),
    ):
        with pytest.raises(PermissionDenied):
            call()
    callerid.refresh_from_db()
    assert (callerid.status, callerid.number) == ("enabled", "1234")


def test_removing_is_soft_frees_the_license_and_records_the_credit(alice, extension_a):
    callerid = add_one(extension_a, credit=Decimal("7.25")).callerids[0]
    removed = remove_callerid(actor=alice, callerid=callerid)
    assert removed.status == CallerIDStatus.REMOVED and removed.removed_at is not None
    assert get_license().active_callerids == 0
    event = AuditEvent.objects.get(action="callerid.remove")
    assert event.before["available"] == "7.2500"
    assert event.before["status"] == "enabled"
    assert event.after["status"] == "removed"
    with pytest.raises(DomainError, match="This CallerID was removed"):
        remove_callerid(actor=alice, callerid=callerid)


def test_removing_a_disabled_callerid_leaves_the_counters_alone(alice, extension_a):
    callerid = add_one(extension_a).callerids[0]
    add_one(extension_a, "5555")
    disable_callerid(actor=alice, callerid=callerid)
    remove_callerid(actor=alice, callerid=callerid)
    assert get_license().active_callerids == 1


def test_a_removed_callerid_is_frozen(alice, extension_a):
    callerid = add_one(extension_a).callerids[0]
    remove_callerid(actor=alice, callerid=callerid)
    for call in (
        lambda: enable_callerid(actor=alice, callerid=callerid),
        lambda: disable_callerid(actor=alice, callerid=callerid),
        lambda: edit_callerid(actor=alice, callerid=callerid, number="9999"),
        lambda: edit_callerid(actor=alice, callerid=callerid, pin="9999"),
        lambda: edit_callerid(actor=alice, callerid=callerid, status="enabled"),
    ):
        with pytest.raises(DomainError, match="This CallerID was removed"):
            call()
    callerid.refresh_from_db()
    assert (callerid.status, callerid.number) == ("removed", "1234")


def test_the_same_number_can_be_added_again_after_removal_as_a_new_entry(alice, extension_a):
    old = add_one(extension_a, credit=Decimal("4")).callerids[0]
    remove_callerid(actor=alice, callerid=old)
    new = add_one(extension_a, credit=Decimal("1"), actor=alice).callerids[0]
    assert new.pk != old.pk and new.number == old.number
    assert (new.available, new.total) == (Decimal("1"), Decimal("1"))
    assert LedgerEntry.objects.filter(callerid=new).count() == 1
    old.refresh_from_db()
    assert old.status == "removed" and old.available == Decimal("4")
