"""Users: created with a role and its binding, changed, deactivated, password reset; the
password never reaches the audit log."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tenancy.audit import Actor
from tenancy.models import AuditEvent, Role
from tenancy.services import tenancy as services
from tests.conftest import PASSWORD, audit_mark, events_since
from values.errors import DomainError

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture
def actor(admin_user):
    return Actor(user=admin_user, address="198.51.100.7")


def _all_audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("before", "after")))


def test_an_admin_creates_a_reseller_user_and_it_can_log_in(client_for, reseller_a):
    response = client_for("admin").post(
        reverse("tenancy:user_create"),
        {
            "username": "carol",
            "role": "reseller",
            "reseller": reseller_a.pk,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    carol = User.objects.get(username="carol")
    assert carol.profile.role == Role.RESELLER and carol.profile.reseller == reseller_a
    assert not carol.is_staff and not carol.is_superuser
    assert carol.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.create", object_repr="carol")
    assert event.after["password"] == "changed" and event.reseller == reseller_a
    assert NEW_PASSWORD not in _all_audit_text()


@pytest.mark.parametrize(
    ("role", "reseller", "message"),
    [
        ("reseller", False, "must be bound to a reseller"),
        ("admin", True, "do not choose a reseller"),
        ("boss", False, "Select a valid choice"),
    ],
)
def test_a_wrong_binding_is_refused_next_to_the_field(
    client_for, reseller_a, role, reseller, message
):
    data = {"username": "dave", "role": role, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    if reseller:
        data["reseller"] = reseller_a.pk
    response = client_for("admin").post(reverse("tenancy:user_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="dave").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "ALICE"}, "A user named &quot;ALICE&quot; already exists"),
        ({"username": "bad name!"}, "Enter a valid username"),
        ({"username": ""}, "This field is required"),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password2": "something-else-entirely"}, "The two passwords differ"),
        ({"reseller": "999999"}, "Select a valid choice"),
        ({"reseller": "abc"}, "Select a valid choice"),
    ],
)
def test_bad_user_input_gives_a_clear_message_never_a_500(client_for, data, message):
    base = {
        "username": "erin",
        "role": "staff",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    response = client_for("admin").post(reverse("tenancy:user_create"), {**base, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 5  # only the cast


def test_server_wide_staff_needs_no_reseller(actor):
    user = services.create_user(actor=actor, username="viewer", password=NEW_PASSWORD, role="staff")
    assert user.profile.reseller is None


def test_an_admin_changes_role_and_binding(client_for, cast, reseller_b):
    sam = cast["staff_a"]
    response = client_for("admin").post(
        reverse("tenancy:user_edit", args=[sam.pk]),
        {"role": "reseller", "reseller": reseller_b.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    sam.profile.refresh_from_db()
    assert sam.profile.role == "reseller" and sam.profile.reseller == reseller_b
    event = AuditEvent.objects.get(action="user.update")
    assert event.before["role"] == "staff" and event.after["role"] == "reseller"


def test_a_deactivated_user_can_no_longer_log_in_and_can_be_reactivated(client_for, cast):
    from django.test import Client

    alice = cast["reseller_a"]
    admin = client_for("admin")
    mark = audit_mark()
    admin.post(reverse("tenancy:user_set_active", args=[alice.pk]), {"active": "0"})
    alice.refresh_from_db()
    assert not alice.is_active
    login = {"username": "alice", "password": PASSWORD}
    assert Client().post(reverse("login"), login).status_code == 200  # refused
    admin.post(reverse("tenancy:user_set_active", args=[alice.pk]), {"active": "1"})
    assert Client().post(reverse("login"), login).status_code == 302
    actions = list(events_since(mark).values_list("action", flat=True))
    assert actions == ["user.deactivate", "user.activate"]


def test_an_admin_cannot_deactivate_or_demote_itself(client_for, admin_user):
    admin = client_for("admin")
    response = admin.post(
        reverse("tenancy:user_set_active", args=[admin_user.pk]), {"active": "0"}, follow=True
    )
    assert "You cannot deactivate your own account" in response.content.decode()
    response = admin.post(
        reverse("tenancy:user_edit", args=[admin_user.pk]), {"role": "staff", "is_active": "on"}
    )
    assert "cannot take the administrator role from yourself" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.profile.role == "admin"


def test_a_password_reset_is_audited_as_changed_only(client_for, cast):
    alice = cast["reseller_a"]
    response = client_for("admin").post(
        reverse("tenancy:user_password", args=[alice.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.after == {"password": "changed"}
    assert NEW_PASSWORD not in _all_audit_text()
    assert alice.password not in _all_audit_text()


def test_a_weak_reset_password_is_refused_next_to_the_field(client_for, cast):
    alice = cast["reseller_a"]
    response = client_for("admin").post(
        reverse("tenancy:user_password", args=[alice.pk]),
        {"password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()


def test_a_user_without_role_is_listed_and_can_be_given_one(client_for, reseller_a):
    nobody = User.objects.create_user("nobody", password="x")
    admin = client_for("admin")
    assert "nobody" in admin.get(reverse("tenancy:user_list")).content.decode()
    admin.post(
        reverse("tenancy:user_edit", args=[nobody.pk]),
        {"role": "staff", "reseller": reseller_a.pk, "is_active": "on"},
    )
    nobody.refresh_from_db()
    assert nobody.profile.role == "staff"


def test_the_user_list_searches_and_filters(client_for):
    admin = client_for("admin")
    page = admin.get(reverse("tenancy:user_list"), {"q": "ali"}).content.decode()
    assert "alice" in page and "bob" not in page
    page = admin.get(reverse("tenancy:user_list"), {"role": "staff"}).content.decode()
    assert "sam" in page and "sue" in page and "alice" not in page


def test_service_refuses_a_duplicate_username_ignoring_case(actor, cast):
    with pytest.raises(DomainError, match="already exists"):
        services.create_user(actor=actor, username="Bob", password=NEW_PASSWORD, role="staff")


def test_a_taken_username_is_reported_together_with_the_other_errors(client_for):
    client = client_for("admin")
    response = client.post(
        reverse("tenancy:user_create"),
        {"username": "ALICE", "role": "reseller", "password1": "x", "password2": "y"},
    )
    assert response.status_code == 200
    assert b"A user named &quot;ALICE&quot; already exists." in response.content
    assert b"The two passwords differ." in response.content
