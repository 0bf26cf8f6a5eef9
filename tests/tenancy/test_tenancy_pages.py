"""Reseller, organization and user pages: who reaches what (role matrix), query bounds,
and that a reseller never sees or reaches another reseller's data."""

import pytest
from django.urls import reverse

from tenancy.models import AuditEvent, Organization, Reseller
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {
    "admin": 200,
    "reseller_a": 403,
    "reseller_b": 403,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}
# An object of reseller A, managed by admins only: B's users do not even learn it exists.
ADMIN_ONLY_OBJECT_OF_A = {**ADMIN_ONLY, "reseller_b": 404}
EVERY_ROLE = dict.fromkeys(ROLES, 200) | {"anonymous": 302}
WRITERS = {**EVERY_ROLE, "staff_a": 403, "staff_server": 403}
WRITERS_OF_A = {**WRITERS, "reseller_b": 404}


PAGES = [
    ("tenancy:reseller_list", None, ADMIN_ONLY),
    ("tenancy:reseller_create", None, ADMIN_ONLY),
    ("tenancy:reseller_edit", "reseller_a", ADMIN_ONLY_OBJECT_OF_A),
    ("tenancy:reseller_delete", "reseller_a", ADMIN_ONLY_OBJECT_OF_A),
    ("tenancy:organization_list", None, EVERY_ROLE),
    ("tenancy:organization_create", None, WRITERS),
    ("tenancy:organization_edit", "org_a", WRITERS_OF_A),
    ("tenancy:organization_delete", "org_a", WRITERS_OF_A),
    ("tenancy:user_list", None, ADMIN_ONLY),
    ("tenancy:user_create", None, ADMIN_ONLY),
    ("tenancy:user_edit", "alice", ADMIN_ONLY),
    ("tenancy:user_password", "alice", ADMIN_ONLY),
]


@pytest.fixture
def objects(reseller_a, org_a, org_b, cast):
    return {"reseller_a": reseller_a.pk, "org_a": org_a.pk, "alice": cast["reseller_a"].pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "arg", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_each_page_answers_each_role_as_the_matrix_says(
    client_for, objects, role, name, arg, expected
):
    url = reverse(name, args=[objects[arg]] if arg else [])
    response = client_for(role).get(url)
    assert response.status_code == expected[role], (role, url)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


POSTS = [
    ("tenancy:reseller_set_active", "reseller_a", ADMIN_ONLY_OBJECT_OF_A),
    ("tenancy:organization_set_active", "org_a", WRITERS_OF_A),
    ("tenancy:user_set_active", "alice", ADMIN_ONLY),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "arg", "expected"), POSTS, ids=[p[0] for p in POSTS])
def test_deactivating_answers_each_role_as_the_matrix_says(
    client_for, objects, role, name, arg, expected
):
    url = reverse(name, args=[objects[arg]])
    response = client_for(role).post(url, {"active": "1"})
    want = 302 if expected[role] == 200 else expected[role]
    assert response.status_code == want, (role, url)


@pytest.mark.parametrize("name", [p[0] for p in POSTS])
def test_deactivating_refuses_get(client_for, objects, name):
    arg = {p[0]: p[1] for p in POSTS}[name]
    assert client_for("admin").get(reverse(name, args=[objects[arg]])).status_code == 405


def test_reseller_a_sees_only_its_own_organizations(client_for, org_a, org_b):
    Organization.objects.create(reseller=org_a.reseller, name="Org A2")
    page = client_for("reseller_a").get(reverse("tenancy:organization_list")).content.decode()
    assert "Org A1" in page and "Org A2" in page
    assert "Org B1" not in page
    assert "Reseller B" not in page  # not even in the reseller filter's choices


def test_a_search_never_reaches_another_resellers_organizations(client_for, org_a, org_b):
    client = client_for("reseller_a")
    for query in ({"q": "B1"}, {"q": "Reseller B"}, {"reseller": org_b.reseller_id}):
        page = client.get(reverse("tenancy:organization_list"), query).content.decode()
        assert "Org B1" not in page, query


def test_staff_of_a_sees_a_read_only_list_of_its_organizations(client_for, org_a, org_b):
    page = client_for("staff_a").get(reverse("tenancy:organization_list")).content.decode()
    assert "Org A1" in page and "Org B1" not in page
    assert reverse("tenancy:organization_edit", args=[org_a.pk]) not in page
    assert "Add organization" not in page


def test_server_wide_staff_sees_every_organization(client_for, org_a, org_b):
    page = client_for("staff_server").get(reverse("tenancy:organization_list")).content.decode()
    assert "Org A1" in page and "Org B1" in page


def test_a_reseller_cannot_create_an_organization_under_another_reseller(
    client_for, reseller_a, reseller_b
):
    response = client_for("reseller_a").post(
        reverse("tenancy:organization_create"), {"reseller": reseller_b.pk, "name": "Sneaky"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_a_reseller_creates_an_organization_under_its_own_reseller(client_for, reseller_a):
    response = client_for("reseller_a").post(
        reverse("tenancy:organization_create"),
        {"reseller": reseller_a.pk, "name": "New Org", "active": "on"},
    )
    assert response.status_code == 302
    organization = Organization.objects.get(name="New Org")
    assert organization.reseller == reseller_a
    event = AuditEvent.objects.get(action="organization.create")
    assert event.actor.username == "alice" and event.reseller == reseller_a


def test_reseller_b_cannot_change_or_delete_organizations_of_a_by_guessed_id(client_for, org_a):
    client = client_for("reseller_b")
    for name in ("organization_edit", "organization_delete", "organization_set_active"):
        url = reverse(f"tenancy:{name}", args=[org_a.pk])
        assert client.post(url, {"name": "Hacked", "active": "0"}).status_code == 404
    org_a.refresh_from_db()
    assert org_a.name == "Org A1" and org_a.active


def test_an_unknown_id_is_404_not_500(client_for):
    assert client_for("admin").get("/organizations/999999/").status_code == 404
    assert client_for("admin").get("/resellers/999999/").status_code == 404
    assert client_for("admin").get("/users/999999/").status_code == 404


def test_the_reseller_list_is_searchable_and_sortable(client_for, reseller_a, reseller_b):
    client = client_for("admin")
    page = client.get(reverse("tenancy:reseller_list"), {"q": "a"}).content.decode()
    assert "Reseller A" in page and "Reseller B" not in page
    page = client.get(reverse("tenancy:reseller_list"), {"sort": "-name"}).content.decode()
    assert page.index("Reseller B") < page.index("Reseller A")
    page = client.get(reverse("tenancy:reseller_list"), {"active": "false"}).content.decode()
    assert "Reseller A" not in page


def test_the_organization_list_paginates(client_for, reseller_a):
    Organization.objects.bulk_create(
        [Organization(reseller=reseller_a, name=f"Org {i:03d}") for i in range(60)]
    )
    client = client_for("admin")
    first = client.get(reverse("tenancy:organization_list")).content.decode()
    assert "Org 000" in first and "Org 030" not in first
    third = client.get(reverse("tenancy:organization_list"), {"page": 3}).content.decode()
    assert "Org 059" in third
    # A page past the end or a bad page number is not a 500.
    assert client.get(reverse("tenancy:organization_list"), {"page": "x"}).status_code in (
        200,
        404,
    )


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("tenancy:reseller_list", "admin"),
        ("tenancy:organization_list", "admin"),
        ("tenancy:organization_list", "reseller_a"),
        ("tenancy:organization_list", "staff_server"),
        ("tenancy:user_list", "admin"),
    ],
)
def test_lists_use_a_bounded_number_of_queries(
    client_for, django_assert_max_num_queries, reseller_a, name, role
):
    from tests.conftest import make_user

    for i in range(30):
        reseller = Reseller.objects.create(name=f"R{i:02d}")
        Organization.objects.create(reseller=reseller, name=f"O{i:02d}")
        Organization.objects.create(reseller=reseller_a, name=f"OA{i:02d}")
        make_user(f"user{i:02d}", "staff", reseller)
    client = client_for(role)
    with django_assert_max_num_queries(10):
        response = client.get(reverse(name))
    assert response.status_code == 200


def test_a_taken_reseller_name_is_reported_together_with_the_other_errors(client_for):
    client = client_for("admin")
    response = client.post(
        reverse("tenancy:reseller_create"),
        {"name": "reseller a", "max_active_callerids": "-1"},
    )
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert b"greater than or equal to 0" in response.content


def test_a_reseller_keeps_its_own_name_when_edited(client_for, reseller_a):
    client = client_for("admin")
    response = client.post(
        reverse("tenancy:reseller_edit", args=[reseller_a.pk]),
        {"name": "Reseller A", "may_grant_unlimited": "on", "active": "on"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("value", ["\u0661", "\u0665\u0660", "\uff17"])  # ١ ٥٠ ７
def test_a_resellers_share_takes_ascii_digits_only(client_for, reseller_a, value):
    client = client_for("admin")
    created = client.post(
        reverse("tenancy:reseller_create"), {"name": "Reseller C", "max_active_callerids": value}
    )
    edited = client.post(
        reverse("tenancy:reseller_edit", args=[reseller_a.pk]),
        {"name": "Reseller A", "max_active_callerids": value, "active": "on"},
    )
    for response in (created, edited):
        assert response.status_code == 200
        assert response.context["form"].errors["max_active_callerids"] == [
            "Enter a whole number with the digits 0 to 9."
        ]
    assert not Reseller.objects.filter(name="Reseller C").exists()
    reseller_a.refresh_from_db()
    assert reseller_a.max_active_callerids is None
