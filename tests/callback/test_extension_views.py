"""Every callback extension page as every role; list search, sort, paging and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callback.models import CallbackExtension, ReturnMode
from tenancy.models import Organization

pytestmark = pytest.mark.django_db

LOGIN = "login"

# (url name, method, uses the extension, expected status per role)
MATRIX = [
    (
        "callback:extension_list",
        "get",
        False,
        {"admin": 200, "reseller_a": 200, "reseller_b": 200, "staff_a": 200, "staff_server": 200},
    ),
    (
        "callback:extension_create",
        "get",
        False,
        {"admin": 200, "reseller_a": 200, "reseller_b": 200, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_create",
        "post",
        False,
        {"admin": 200, "reseller_a": 200, "reseller_b": 200, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_detail",
        "get",
        True,
        {"admin": 200, "reseller_a": 200, "reseller_b": 404, "staff_a": 200, "staff_server": 200},
    ),
    (
        "callback:extension_edit",
        "get",
        True,
        {"admin": 200, "reseller_a": 200, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_edit",
        "post",
        True,
        {"admin": 200, "reseller_a": 200, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_deactivate",
        "post",
        True,
        {"admin": 302, "reseller_a": 302, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_activate",
        "post",
        True,
        {"admin": 302, "reseller_a": 302, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_delete",
        "get",
        True,
        {"admin": 200, "reseller_a": 200, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
    (
        "callback:extension_delete",
        "post",
        True,
        {"admin": 302, "reseller_a": 302, "reseller_b": 404, "staff_a": 403, "staff_server": 403},
    ),
]
ROLES = ["admin", "reseller_a", "reseller_b", "staff_a", "staff_server", "anonymous"]
CASES = [
    pytest.param(name, method, uses, role, expected.get(role), id=f"{name}-{method}-{role}")
    for name, method, uses, expected in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize("name,method,uses_extension,role,expected", CASES)
def test_role_matrix(
    client_for, extension_a, extension_b, name, method, uses_extension, role, expected
):
    url = reverse(name, args=[extension_a.pk] if uses_extension else [])
    response = getattr(client_for(role), method)(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(LOGIN))
        assert CallbackExtension.objects.filter(pk=extension_a.pk, active=True).exists()
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("name", ["extension_deactivate", "extension_activate"])
def test_activation_answers_405_to_get(client_for, extension_a, name):
    response = client_for("admin").get(reverse(f"callback:{name}", args=[extension_a.pk]))
    assert response.status_code == 405


@pytest.mark.parametrize(
    "name", ["extension_detail", "extension_edit", "extension_delete", "extension_deactivate"]
)
def test_another_resellers_extension_by_guessed_id_is_404(client_for, extension_b, name):
    client = client_for("reseller_a")
    url = reverse(f"callback:{name}", args=[extension_b.pk])
    # 405 (a method the address never takes) is answered before the extension is looked
    # up, so it says nothing of whether the id exists.
    assert client.get(url).status_code == (405 if name == "extension_deactivate" else 404)
    assert client.post(url).status_code == (405 if name == "extension_detail" else 404)
    extension_b.refresh_from_db()
    assert extension_b.active


def test_an_id_that_does_not_exist_is_404(client_for, extension_a):
    response = client_for("admin").get(reverse("callback:extension_detail", args=[999999]))
    assert response.status_code == 404


def test_staff_cannot_write_and_nothing_changes(client_for, extension_a):
    for role in ["staff_a", "staff_server"]:
        client = client_for(role)
        url = reverse("callback:extension_edit", args=[extension_a.pk])
        assert client.post(url, {"number": "9", "name": "x"}).status_code == 403
        assert (
            client.post(reverse("callback:extension_delete", args=[extension_a.pk])).status_code
            == 403
        )
    extension_a.refresh_from_db()
    assert (extension_a.number, extension_a.name) == ("0003*001", "A main")


def make_extensions(organization, count, start=0):
    CallbackExtension.objects.bulk_create(
        CallbackExtension(organization=organization, number=f"7{i:06d}", name=f"Ext {i}")
        for i in range(start, start + count)
    )


def list_queries(client, params=""):
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("callback:extension_list") + params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("role", ["admin", "reseller_a", "staff_server"])
def test_the_list_query_count_does_not_grow_with_the_extensions(client_for, org_a, org_b, role):
    client = client_for(role)
    make_extensions(org_a, 5)
    make_extensions(org_b, 5, start=5)
    with_ten = list_queries(client, "?sort=reseller")
    make_extensions(org_a, 495, start=10)
    make_extensions(org_b, 495, start=505)
    assert CallbackExtension.objects.count() == 1000
    assert list_queries(client, "?sort=reseller") == with_ten


@pytest.mark.parametrize(
    "name,uses_extension",
    [
        ("extension_list", False),
        ("extension_create", False),
        ("extension_detail", True),
        ("extension_edit", True),
        ("extension_delete", True),
    ],
)
def test_each_page_stays_within_a_query_budget(
    client_for, extension_a, django_assert_max_num_queries, name, uses_extension
):
    client = client_for("reseller_a")
    url = reverse(f"callback:{name}", args=[extension_a.pk] if uses_extension else [])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_the_list_shows_only_the_extensions_in_scope(client_for, extension_a, extension_b):
    content = client_for("reseller_a").get(reverse("callback:extension_list")).content.decode()
    assert "0003*001" in content
    assert "0004*001" not in content
    everything = client_for("staff_server").get(reverse("callback:extension_list")).content.decode()
    assert "0003*001" in everything and "0004*001" in everything


def test_the_list_has_the_columns_of_the_spec(client_for, extension_a):
    content = client_for("admin").get(reverse("callback:extension_list")).content.decode()
    for header in [
        "Extension number",
        "Name",
        "Organization",
        "Reseller",
        "Return calls",
        "Active",
        "Created",
    ]:
        assert header in content
    assert reverse("callback:extension_detail", args=[extension_a.pk]) in content
    assert "Reseller A" in content


def test_the_list_searches_by_any_part_of_number_name_or_organization(client_for, org_a):
    make_extensions(org_a, 3)
    client = client_for("reseller_a")
    content = client.get(reverse("callback:extension_list") + "?q=000001").content.decode()
    assert "7000001" in content and "7000002" not in content
    by_org = client.get(reverse("callback:extension_list") + "?q=org+a1").content.decode()
    assert "7000002" in by_org


def test_the_list_filters_by_mode_and_active(client_for, org_a):
    CallbackExtension.objects.create(
        organization=org_a, number="1", return_mode="fixed", fixed_number="+40721000123"
    )
    CallbackExtension.objects.create(organization=org_a, number="2", active=False)
    client = client_for("admin")
    table = client.get(reverse("callback:extension_list") + "?return_mode=fixed").context["table"]
    assert [row.record.number for row in table.page.object_list] == ["1"]
    table = client.get(reverse("callback:extension_list") + "?active=no").context["table"]
    assert [row.record.number for row in table.page.object_list] == ["2"]


def test_the_organization_filter_offers_and_accepts_only_organizations_in_scope(
    client_for, extension_a, extension_b
):
    client = client_for("reseller_a")
    response = client.get(
        reverse("callback:extension_list") + f"?organization={extension_b.organization_id}"
    )
    assert response.status_code == 200
    assert "0004*001" not in response.content.decode()
    assert "Org B1" not in response.content.decode()


def test_the_list_sorts_and_pages(client_for, org_a):
    make_extensions(org_a, 30)
    client = client_for("admin")
    first = client.get(reverse("callback:extension_list") + "?sort=-number").context["table"]
    assert first.page.object_list[0].record.number == "7000029"
    assert first.page.num_pages == 2
    second = client.get(reverse("callback:extension_list") + "?page=2").context["table"]
    assert len(second.page.object_list) == 5


@pytest.mark.parametrize("params", ["?page=999", "?page=x", "?sort=nonsense", "?active=maybe"])
def test_odd_list_parameters_never_give_a_500(client_for, extension_a, params):
    response = client_for("admin").get(reverse("callback:extension_list") + params)
    assert response.status_code in (200, 404)


def test_writers_see_the_add_link_and_staff_does_not(client_for, extension_a):
    add = reverse("callback:extension_create")
    assert add in client_for("reseller_a").get(reverse("callback:extension_list")).content.decode()
    assert add not in client_for("staff_a").get(reverse("callback:extension_list")).content.decode()


def test_the_management_page_shows_the_setup_and_its_links(client_for, extension_a):
    extension_a.return_mode = ReturnMode.FIXED
    extension_a.fixed_number = "+40721000123"
    extension_a.save()
    response = client_for("reseller_a").get(
        reverse("callback:extension_detail", args=[extension_a.pk])
    )
    content = response.content.decode()
    assert "to a fixed number" in content and "+40721000123" in content
    labels = [label for label, _ in response.context["links"]]
    assert labels == ["Authorized CallerIDs", "Cost report", "Calls in progress", "Setup"]
    assert reverse("callback:extension_edit", args=[extension_a.pk]) in content


def test_every_page_of_the_extension_is_linked(client_for, extension_a):
    response = client_for("reseller_a").get(
        reverse("callback:extension_detail", args=[extension_a.pk])
    )
    links = dict(response.context["links"])
    assert links == {
        "Authorized CallerIDs": reverse("callerids:list", args=[extension_a.pk]),
        "Cost report": reverse("credit:cost_report", args=[extension_a.pk]),
        "Calls in progress": reverse("credit:calls_in_progress", args=[extension_a.pk]),
        "Setup": reverse("callback:extension_edit", args=[extension_a.pk]),
    }
    assert "coming soon" not in response.content.decode()


def test_staff_sees_the_management_page_without_write_actions(client_for, extension_a):
    response = client_for("staff_a").get(
        reverse("callback:extension_detail", args=[extension_a.pk])
    )
    content = response.content.decode()
    assert "Deactivate" not in content
    assert reverse("callback:extension_edit", args=[extension_a.pk]) not in content


def test_deactivate_and_activate_from_the_management_page(client_for, extension_a):
    client = client_for("reseller_a")
    client.post(reverse("callback:extension_deactivate", args=[extension_a.pk]))
    extension_a.refresh_from_db()
    assert not extension_a.active
    page = client.get(reverse("callback:extension_detail", args=[extension_a.pk]))
    assert "deactivated" in page.content.decode()
    client.post(reverse("callback:extension_activate", args=[extension_a.pk]))
    extension_a.refresh_from_db()
    assert extension_a.active


def test_editing_an_extension_in_an_inactive_organization_keeps_it(client_for, extension_a):
    Organization.objects.filter(pk=extension_a.organization_id).update(active=False)
    from tests.callback.test_extension_form import setup_data

    response = client_for("reseller_a").post(
        reverse("callback:extension_edit", args=[extension_a.pk]),
        setup_data(extension_a.organization, number=extension_a.number, name="Still here"),
    )
    assert response.status_code == 302
