"""Reseller and organization services: uniqueness, delete-versus-deactivate, audit events."""

import pytest
from django.urls import reverse

from callback.models import CallbackExtension
from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent, Organization, Reseller
from tenancy.services import tenancy as services
from values.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(admin_user):
    return Actor(user=admin_user, address="192.0.2.1")


def test_creating_a_reseller_records_who_from_where_and_the_values(actor):
    reseller = services.create_reseller(
        actor=actor, name="  Acme   Telecom ", max_active_callerids=10, may_grant_unlimited=True
    )
    assert reseller.name == "Acme Telecom"
    event = AuditEvent.objects.get(action="reseller.create")
    assert event.actor_label == "admin" and event.address == "192.0.2.1"
    assert event.object_id == str(reseller.pk)
    assert event.after == {
        "name": "Acme Telecom",
        "active": True,
        "max_active_callerids": 10,
        "may_grant_unlimited": True,
    }


def test_reseller_names_are_unique_ignoring_case(actor, reseller_a):
    with pytest.raises(DomainError, match='A reseller named "Reseller A" already exists'):
        services.create_reseller(actor=actor, name="reseller a")
    other = services.create_reseller(actor=actor, name="Other")
    with pytest.raises(DomainError, match="already exists"):
        services.update_reseller(
            actor=actor,
            reseller=other,
            name="RESELLER A",
            active=True,
            max_active_callerids=None,
            may_grant_unlimited=False,
        )


def test_an_empty_name_is_refused(actor):
    with pytest.raises(DomainError, match="Enter the reseller's name"):
        services.create_reseller(actor=actor, name="   ")


def test_updating_a_reseller_records_before_and_after(actor, reseller_b):
    services.update_reseller(
        actor=actor,
        reseller=reseller_b,
        name="Reseller B",
        active=False,
        max_active_callerids=5,
        may_grant_unlimited=False,
    )
    event = AuditEvent.objects.get(action="reseller.update")
    assert event.before["active"] is True and event.after["active"] is False
    assert event.before["max_active_callerids"] is None and event.after["max_active_callerids"] == 5


def test_saving_without_a_change_records_nothing(actor, reseller_b):
    services.set_reseller_active(actor=actor, reseller=reseller_b, active=True)
    assert not AuditEvent.objects.filter(action="reseller.update").exists()


def test_an_unused_reseller_is_deleted_and_the_deletion_is_audited(actor):
    reseller = services.create_reseller(actor=actor, name="Short lived")
    services.delete_reseller(actor=actor, reseller=reseller)
    assert not Reseller.objects.filter(name="Short lived").exists()
    event = AuditEvent.objects.get(action="reseller.delete")
    assert event.before["name"] == "Short lived"


@pytest.mark.parametrize("what", ["organization", "user", "token", "history"])
def test_a_reseller_that_was_ever_used_is_only_deactivated(actor, reseller_b, what):
    from tests.conftest import make_user

    if what == "organization":
        Organization.objects.create(reseller=reseller_b, name="X")
    elif what == "user":
        make_user("someone", "staff", reseller_b)
    elif what == "token":
        ApiToken.objects.create(
            name="pbx", prefix="abc", secret_sha256="0" * 64, reseller=reseller_b
        )
    else:  # an organization created and deleted again leaves its history on the reseller
        organization = services.create_organization(actor=actor, reseller=reseller_b, name="Gone")
        services.delete_organization(actor=actor, organization=organization)
    with pytest.raises(DomainError, match="cannot be deleted.*Deactivate it instead"):
        services.delete_reseller(actor=actor, reseller=reseller_b)
    assert Reseller.objects.filter(pk=reseller_b.pk).exists()


def test_an_organization_without_extensions_is_deleted(actor, org_a):
    services.delete_organization(actor=actor, organization=org_a)
    assert not Organization.objects.filter(pk=org_a.pk).exists()
    event = AuditEvent.objects.get(action="organization.delete")
    assert event.reseller == org_a.reseller and event.object_repr == "Org A1"


def test_an_organization_with_extensions_is_only_deactivated(actor, org_a, extension_a):
    with pytest.raises(DomainError, match="1 callback extension"):
        services.delete_organization(actor=actor, organization=org_a)
    services.set_organization_active(actor=actor, organization=org_a, active=False)
    org_a.refresh_from_db()
    assert not org_a.active
    assert CallbackExtension.objects.filter(pk=extension_a.pk).exists()
    assert AuditEvent.objects.get(action="organization.update").after["active"] is False


def test_organization_names_are_unique_per_reseller_ignoring_case(actor, org_a, reseller_b):
    with pytest.raises(DomainError, match='already has an organization "Org A1"'):
        services.create_organization(actor=actor, reseller=org_a.reseller, name="org a1")
    services.create_organization(actor=actor, reseller=reseller_b, name="Org A1")


# Through the pages


def test_the_delete_page_asks_for_confirmation_before_deleting(client_for, actor):
    reseller = services.create_reseller(actor=actor, name="Unused")
    client = client_for("admin")
    page = client.get(reverse("tenancy:reseller_delete", args=[reseller.pk])).content.decode()
    assert "Yes, delete reseller" in page
    assert Reseller.objects.filter(pk=reseller.pk).exists()
    response = client.post(reverse("tenancy:reseller_delete", args=[reseller.pk]))
    assert response.status_code == 302
    assert not Reseller.objects.filter(pk=reseller.pk).exists()


def test_the_delete_page_of_a_used_reseller_offers_deactivation(client_for, org_a):
    client = client_for("admin")
    url = reverse("tenancy:reseller_delete", args=[org_a.reseller_id])
    page = client.get(url).content.decode()
    assert "cannot be deleted" in page and "Deactivate reseller" in page
    response = client.post(url, follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Reseller.objects.filter(pk=org_a.reseller_id).exists()


def test_the_delete_page_of_an_organization_with_extensions_refuses(client_for, extension_a):
    client = client_for("reseller_a")
    url = reverse("tenancy:organization_delete", args=[extension_a.organization_id])
    assert "cannot be deleted" in client.get(url).content.decode()
    client.post(url)
    assert Organization.objects.filter(pk=extension_a.organization_id).exists()


def test_a_reseller_deletes_its_own_unused_organization(client_for, org_a):
    client = client_for("reseller_a")
    response = client.post(reverse("tenancy:organization_delete", args=[org_a.pk]))
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=org_a.pk).exists()


def test_a_duplicate_reseller_name_shows_a_clear_error_next_to_the_field(client_for, reseller_a):
    response = client_for("admin").post(
        reverse("tenancy:reseller_create"), {"name": "RESELLER a", "active": "on"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already exists (names are compared ignoring case)" in page
    assert "is-invalid" in page
    assert Reseller.objects.filter(name__iexact="reseller a").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "Ok", "max_active_callerids": "-1"},
        {"name": "Ok", "max_active_callerids": "lots"},
        {"name": "Ok", "max_active_callerids": "99999999999999999999"},
    ],
)
def test_bad_reseller_input_gives_a_form_error_never_a_500(client_for, data):
    response = client_for("admin").post(reverse("tenancy:reseller_create"), data)
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert Reseller.objects.count() == 2  # only the cast's A and B


@pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "Org A1"}])
def test_bad_organization_input_gives_a_form_error_never_a_500(client_for, org_a, data):
    data = {"reseller": org_a.reseller_id, **data}
    response = client_for("reseller_a").post(reverse("tenancy:organization_create"), data)
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert Organization.objects.filter(reseller=org_a.reseller).count() == 1


def test_editing_a_reseller_below_its_active_count_warns_but_saves(client_for, reseller_a):
    Reseller.objects.filter(pk=reseller_a.pk).update(active_callerids=7)
    response = client_for("admin").post(
        reverse("tenancy:reseller_edit", args=[reseller_a.pk]),
        {"name": "Reseller A", "max_active_callerids": "3", "active": "on"},
        follow=True,
    )
    assert "they stay enabled" in response.content.decode()
    reseller_a.refresh_from_db()
    assert reseller_a.max_active_callerids == 3 and not reseller_a.may_grant_unlimited


def test_a_reseller_renames_and_deactivates_its_own_organization(client_for, org_a):
    client = client_for("reseller_a")
    client.post(reverse("tenancy:organization_edit", args=[org_a.pk]), {"name": "Renamed"})
    org_a.refresh_from_db()
    assert org_a.name == "Renamed" and not org_a.active
    client.post(reverse("tenancy:organization_set_active", args=[org_a.pk]), {"active": "1"})
    org_a.refresh_from_db()
    assert org_a.active
    assert AuditEvent.objects.filter(action="organization.update").count() == 2
