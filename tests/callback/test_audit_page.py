"""The audit log page: administrators only, searchable by actor, action, object and dates."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from callback.audit import Actor, record
from callback.models import AuditEvent
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

EXPECTED = {
    "admin": 200,
    "reseller_a": 403,
    "reseller_b": 403,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


@pytest.fixture
def events(cast, reseller_a, org_a):
    alice = Actor(user=cast["reseller_a"], address="203.0.113.5")
    admin = Actor(user=cast["admin"])
    first = record(actor=alice, action="organization.update", obj=org_a, reseller=reseller_a)
    second = record(actor=admin, action="reseller.update", obj=reseller_a)
    old = record(actor=admin, action="license.update", object_repr="License")
    AuditEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    return first, second, old


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_log_answers_each_role_as_the_matrix_says(client_for, role):
    assert client_for(role).get(reverse("callback:audit_list")).status_code == EXPECTED[role]


def test_it_lists_who_did_what_from_where(client_for, events):
    page = client_for("admin").get(reverse("callback:audit_list")).content.decode()
    assert "organization.update" in page and "203.0.113.5" in page and "alice" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"actor": "ali"}, "organization.update", "reseller.update"),
        ({"action": "reseller"}, "reseller.update", "organization.update"),
        ({"object": "Org A1"}, "organization.update", "reseller.update"),
        ({"object": "callback.reseller"}, "reseller.update", "organization.update"),
    ],
)
def test_it_searches_by_actor_action_and_object(client_for, events, query, shown, hidden):
    page = client_for("admin").get(reverse("callback:audit_list"), query).content.decode()
    assert shown in page and hidden not in page


def test_it_filters_by_date_range(client_for, events):
    today = timezone.localdate()
    client = client_for("admin")
    recent = client.get(
        reverse("callback:audit_list"), {"date_from": today - datetime.timedelta(days=1)}
    ).content.decode()
    assert "license.update" not in recent and "reseller.update" in recent
    old = client.get(
        reverse("callback:audit_list"), {"date_to": today - datetime.timedelta(days=30)}
    ).content.decode()
    assert "license.update" in old and "reseller.update" not in old


def test_a_bad_date_is_a_form_error_not_a_500(client_for, events):
    response = client_for("admin").get(reverse("callback:audit_list"), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_it_paginates_with_a_bounded_number_of_queries(
    client_for, cast, django_assert_max_num_queries
):
    admin = Actor(user=cast["admin"])
    for i in range(60):
        record(actor=admin, action=f"test.event{i:02d}", object_repr=f"thing {i}")
    client = client_for("admin")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("callback:audit_list")).content.decode()
    assert "test.event59" in page and "test.event10" not in page
    page = client.get(reverse("callback:audit_list"), {"page": 3}).content.decode()
    assert "test.event00" in page


def test_it_shows_each_changed_field_as_before_and_after_with_the_raw_values_a_click_away(
    client_for, cast, reseller_a
):
    admin = Actor(user=cast["admin"])
    record(
        actor=admin,
        action="reseller.update",
        obj=reseller_a,
        before={"name": "Reseller A", "active": True, "max_active_callerids": 10},
        after={"name": "Reseller A", "active": False, "max_active_callerids": 25, "note": "x"},
    )
    page = client_for("admin").get(reverse("callback:audit_list")).content.decode()
    assert '<span class="field">active</span>: <del>yes</del> → <ins>no</ins>' in page
    assert '<span class="field">max_active_callerids</span>: <del>10</del> → <ins>25</ins>' in page
    assert '<span class="field">note</span>: <ins>x</ins>' in page
    assert '<span class="field">name</span>' not in page  # unchanged: not listed
    raw = page.split("<summary>Raw values</summary>", 1)[1].split("</details>", 1)[0]
    assert "&quot;name&quot;: &quot;Reseller A&quot;" in raw  # the whole values, escaped


def test_changes_lists_only_fields_that_differ_and_marks_created_and_removed_ones():
    from callback.tables.tenancy import changes

    assert changes({"a": 1, "b": "x"}, {"a": 2, "b": "x", "c": None}) == [
        ("a", "1", "2"),
        ("c", None, "—"),
    ]
    assert changes({"gone": "y"}, None) == [("gone", "y", None)]
    assert changes(None, None) == []
    long = "z" * 100
    assert changes({}, {"t": long})[0][2] == "z" * 59 + "…"
