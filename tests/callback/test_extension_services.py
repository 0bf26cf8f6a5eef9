"""The extension services: rules re-checked whatever the caller, audit events, deletion."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from callback.models import CallbackExtension, ReturnMode
from callback.services.extensions import (
    ExtensionSetup,
    activate_extension,
    create_extension,
    deactivate_extension,
    delete_extension,
    deletion_blockers,
    update_extension,
)
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import Call
from tenancy.audit import Actor
from tenancy.models import AuditEvent, Organization
from tests.conftest import audit_mark, events_since
from values.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


def actor(user):
    return Actor(user=user, address="192.0.2.1")


def test_create_writes_the_extension_and_an_audit_event(reseller_a_user, org_a):
    mark = audit_mark()
    extension = create_extension(
        actor=actor(reseller_a_user),
        organization=org_a,
        setup=ExtensionSetup(number="12*3", min_credit=Decimal("1.25")),
    )
    assert extension.pk and extension.min_credit == Decimal("1.25")
    event = events_since(mark).get()
    assert (event.action, event.object_id, event.address) == (
        "extension.create",
        str(extension.pk),
        "192.0.2.1",
    )
    assert event.after["organization"] == org_a.pk


def test_create_refuses_caller_mode_for_a_reseller(reseller_a_user, org_a):
    mark = audit_mark()
    with pytest.raises(NotAllowed) as refused:
        create_extension(
            actor=actor(reseller_a_user),
            organization=org_a,
            setup=ExtensionSetup(number="1", return_mode=ReturnMode.CALLER),
        )
    assert "return_mode" in refused.value.message_dict
    assert not CallbackExtension.objects.exists()
    assert not events_since(mark).exists()


def test_create_refuses_an_organization_outside_the_scope(reseller_a_user, org_b):
    # As the CallerID services: what the actor does not see is "not found" (issue 17).
    with pytest.raises(Http404):
        create_extension(
            actor=actor(reseller_a_user), organization=org_b, setup=ExtensionSetup(number="1")
        )
    assert not CallbackExtension.objects.exists()


def test_create_refuses_read_only_roles(staff_server_user, org_a):
    with pytest.raises(PermissionDenied, match="read-only"):
        create_extension(
            actor=actor(staff_server_user), organization=org_a, setup=ExtensionSetup(number="1")
        )


def test_create_refuses_a_duplicate_number_with_a_field_error(admin_user, org_a, extension_b):
    with pytest.raises(DomainError) as refused:
        create_extension(
            actor=actor(admin_user), organization=org_a, setup=ExtensionSetup(number="0004*001")
        )
    assert refused.value.message_dict["number"] == [
        "Extension number 0004*001 is already used on this server; choose another."
    ]


@pytest.mark.parametrize(
    "setup,field",
    [
        (ExtensionSetup(number="1", return_mode=ReturnMode.FIXED), "fixed_number"),
        (ExtensionSetup(number="1", outbound_callerid_mode="user"), "outbound_callerid"),
        (ExtensionSetup(number="1*"), "number"),
        (ExtensionSetup(number="1", trigger_after_seconds=61), "trigger_after_seconds"),
        (ExtensionSetup(number="1", dial_timeout_seconds=0), "dial_timeout_seconds"),
        (ExtensionSetup(number="1", pin_lock_limit=21), "pin_lock_limit"),
        (ExtensionSetup(number="1", min_credit=Decimal("-1")), "min_credit"),
    ],
)
def test_create_rechecks_every_field_rule(admin_user, org_a, setup, field):
    with pytest.raises(ValidationError) as refused:
        create_extension(actor=actor(admin_user), organization=org_a, setup=setup)
    assert field in refused.value.message_dict


def test_create_drops_numbers_that_belong_to_other_modes(admin_user, org_a):
    extension = create_extension(
        actor=actor(admin_user),
        organization=org_a,
        setup=ExtensionSetup(number="1", fixed_number="+40721000123", outbound_callerid="1234"),
    )
    assert (extension.fixed_number, extension.outbound_callerid) == ("", "")


def test_update_records_before_and_after(reseller_a_user, extension_a):
    update_extension(
        actor=actor(reseller_a_user),
        extension=extension_a,
        organization=extension_a.organization,
        setup=ExtensionSetup(number="0003*001", name="Renamed", pin_lock_limit=0),
    )
    event = AuditEvent.objects.get(action="extension.update")
    assert (event.before["name"], event.after["name"]) == ("A main", "Renamed")
    assert (event.before["pin_lock_limit"], event.after["pin_lock_limit"]) == (5, 0)


def test_an_update_that_changes_nothing_writes_no_event(reseller_a_user, extension_a):
    mark = audit_mark()
    update_extension(
        actor=actor(reseller_a_user),
        extension=extension_a,
        organization=extension_a.organization,
        setup=ExtensionSetup(number="0003*001", name="A main"),
    )
    assert not events_since(mark).exists()


def test_update_refuses_a_reseller_keeping_caller_mode(reseller_a_user, extension_a):
    CallbackExtension.objects.filter(pk=extension_a.pk).update(return_mode=ReturnMode.CALLER)
    with pytest.raises(NotAllowed):
        update_extension(
            actor=actor(reseller_a_user),
            extension=extension_a,
            organization=extension_a.organization,
            setup=ExtensionSetup(number="0003*001", return_mode=ReturnMode.CALLER),
        )


def test_update_cannot_move_an_extension_out_of_the_resellers_scope(
    reseller_a_user, extension_a, org_b
):
    with pytest.raises(Http404):
        update_extension(
            actor=actor(reseller_a_user),
            extension=extension_a,
            organization=org_b,
            setup=ExtensionSetup(number="0003*001"),
        )


def test_an_extension_moves_within_its_reseller(reseller_a_user, extension_a, reseller_a):
    other = Organization.objects.create(reseller=reseller_a, name="Org A2")
    moved = update_extension(
        actor=actor(reseller_a_user),
        extension=extension_a,
        organization=other,
        setup=ExtensionSetup(number="0003*001"),
    )
    assert moved.organization == other


def add_callerid(extension, status=CallerIDStatus.ENABLED):
    return AuthorizedCallerID.objects.create(
        extension=extension, number="+40721000123", status=status, available=0, total=0
    )


def test_an_extension_with_callerids_stays_with_its_reseller(admin_user, extension_a, org_b):
    add_callerid(extension_a)
    with pytest.raises(DomainError) as refused:
        update_extension(
            actor=actor(admin_user),
            extension=extension_a,
            organization=org_b,
            setup=ExtensionSetup(number="0003*001"),
        )
    assert "organization" in refused.value.message_dict


def test_an_extension_with_calls_stays_with_its_reseller(admin_user, extension_a, org_b):
    # Its unmetered calls (callers' numbers, destinations) would otherwise show in the other
    # reseller's cost report.
    Call.objects.create(
        call_id="a-1",
        extension=extension_a,
        caller_id="+40721000999",
        destination="+4031000000",
        started_at=timezone.now(),
        duration_seconds=10,
        cost=Decimal("1"),
        charged=Decimal("0"),
        shortfall=Decimal("0"),
        metered=False,
    )
    with pytest.raises(DomainError) as refused:
        update_extension(
            actor=actor(admin_user),
            extension=extension_a,
            organization=org_b,
            setup=ExtensionSetup(number="0003*001"),
        )
    assert "organization" in refused.value.message_dict
    extension_a.refresh_from_db()
    assert extension_a.organization.reseller != org_b.reseller


def test_an_admin_moves_an_extension_without_callerids_to_another_reseller(
    admin_user, extension_a, org_b
):
    mark = audit_mark()
    moved = update_extension(
        actor=actor(admin_user),
        extension=extension_a,
        organization=org_b,
        setup=ExtensionSetup(number="0003*001"),
    )
    assert moved.organization == org_b
    assert events_since(mark).get().reseller == org_b.reseller


def test_deactivate_and_activate_are_idempotent_and_audited(reseller_a_user, extension_a):
    mark = audit_mark()
    deactivate_extension(actor=actor(reseller_a_user), extension=extension_a)
    deactivate_extension(actor=actor(reseller_a_user), extension=extension_a)
    extension_a.refresh_from_db()
    assert not extension_a.active
    activate_extension(actor=actor(reseller_a_user), extension=extension_a)
    actions = list(events_since(mark).values_list("action", flat=True))
    assert actions == ["extension.deactivate", "extension.activate"]


def test_deactivate_refuses_read_only_and_out_of_scope_users(
    staff_a_user, reseller_b_user, extension_a
):
    with pytest.raises(PermissionDenied):
        deactivate_extension(actor=actor(staff_a_user), extension=extension_a)
    with pytest.raises(Http404):
        deactivate_extension(actor=actor(reseller_b_user), extension=extension_a)


def test_delete_removes_an_extension_that_never_had_callerids_or_calls(admin_user, extension_a):
    pk = extension_a.pk
    delete_extension(actor=actor(admin_user), extension=extension_a)
    assert not CallbackExtension.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="extension.delete")
    assert event.before["number"] == "0003*001" and event.object_id == str(pk)


@pytest.mark.parametrize("status", list(CallerIDStatus))
def test_delete_refuses_an_extension_that_had_a_callerid_of_any_status(
    admin_user, extension_a, status
):
    add_callerid(extension_a, status=status)
    assert deletion_blockers(extension_a) == ["it has had authorized CallerIDs"]
    with pytest.raises(DomainError) as refused:
        delete_extension(actor=actor(admin_user), extension=extension_a)
    assert "deactivate it instead" in refused.value.messages[0]
    assert CallbackExtension.objects.filter(pk=extension_a.pk).exists()


def test_delete_refuses_an_extension_that_had_a_call(admin_user, extension_a):
    Call.objects.create(
        call_id="c1",
        extension=extension_a,
        started_at=timezone.now(),
        duration_seconds=10,
        cost=Decimal("0.1"),
        charged=Decimal("0"),
        shortfall=Decimal("0"),
        metered=False,
    )
    assert deletion_blockers(extension_a) == ["it has had calls"]
    with pytest.raises(DomainError):
        delete_extension(actor=actor(admin_user), extension=extension_a)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_of_one_number_give_one_extension_and_clear_refusals(admin_user, org_a):
    def attempt(index):
        try:
            create_extension(
                actor=actor(admin_user),
                organization=org_a,
                setup=ExtensionSetup(number="5555", name=f"try {index}"),
            )
            return "created"
        except DomainError as exc:
            return exc.message_dict["number"][0]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("created") == 1
    assert set(outcomes) - {"created"} == {
        "Extension number 5555 is already used on this server; choose another."
    }
    assert CallbackExtension.objects.filter(number="5555").count() == 1
    assert AuditEvent.objects.filter(action="extension.create").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deactivations_write_one_audit_event(admin_user, extension_a):
    def attempt(_):
        try:
            deactivate_extension(actor=actor(admin_user), extension=extension_a)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(attempt, range(10)))
    assert AuditEvent.objects.filter(action="extension.deactivate").count() == 1


def test_every_extension_service_answers_404_for_an_extension_the_actor_does_not_see(
    reseller_b_user, staff_a_user, extension_a
):
    """The CallerID services' answer (issue 17): out of scope is "not found", a read-only
    role on a visible extension is 403; nothing changes either way."""
    mark = audit_mark()
    for call in (
        lambda a: update_extension(
            actor=a,
            extension=extension_a,
            organization=extension_a.organization,
            setup=ExtensionSetup(number="0003*001", name="taken"),
        ),
        lambda a: deactivate_extension(actor=a, extension=extension_a),
        lambda a: activate_extension(actor=a, extension=extension_a),
        lambda a: delete_extension(actor=a, extension=extension_a),
    ):
        with pytest.raises(Http404):
            call(actor(reseller_b_user))
        with pytest.raises(PermissionDenied):
            call(actor(staff_a_user))
    extension_a.refresh_from_db()
    assert extension_a.active and extension_a.name == "A main"
    assert not events_since(mark).exists()
