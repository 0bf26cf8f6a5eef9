"""Users bound to an inactive reseller cannot use the panel (SPEC §3: everything under an
inactive reseller is refused); they see why. Other users are not affected."""

import pytest
from django.urls import reverse

from callback.scope import extensions_for
from tenancy import scoping
from tenancy.models import Reseller

ROLES_OF_A = ["reseller_a", "staff_a"]
OTHERS = ["admin", "reseller_b", "staff_server"]


@pytest.fixture
def reseller_a_inactive(reseller_a):
    Reseller.objects.filter(pk=reseller_a.pk).update(active=False)
    return reseller_a


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES_OF_A)
def test_users_of_an_inactive_reseller_have_no_role(cast, reseller_a_inactive, role):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=cast[role].pk)  # fresh, as on a request
    assert scoping.role_of(user) is None
    assert not extensions_for(user).exists()
    assert "inactive" in scoping.no_access_reason(user)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES_OF_A)
def test_the_home_page_tells_them_their_reseller_is_inactive(client_for, reseller_a_inactive, role):
    response = client_for(role).get(reverse("home"))
    assert response.status_code == 200
    assert "Your reseller &quot;Reseller A&quot; is inactive" in response.content.decode()
    assert reverse("callback:extension_list") not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES_OF_A)
def test_their_lists_exports_and_objects_are_refused(
    client_for, reseller_a_inactive, extension_a, role
):
    client = client_for(role)
    listing = client.get(reverse("callback:extension_list"))
    assert listing.status_code == 403
    assert "is inactive" in listing.content.decode()
    assert client.get(reverse("tenancy:organization_list")).status_code == 403
    assert client.get(reverse("callback:extension_detail", args=[extension_a.pk])).status_code in (
        403,
        404,
    )
    export = client.get(
        reverse("exports:download", args=["callerids", "csv"]), {"extension": extension_a.pk}
    )
    assert export.status_code == 403
    cost = client.get(reverse("credit:cost_report", args=[extension_a.pk]))
    assert cost.status_code == 404


@pytest.mark.django_db
def test_a_reseller_user_of_an_inactive_reseller_cannot_create_an_organization(
    client_for, reseller_a_inactive
):
    response = client_for("reseller_a").post(
        reverse("tenancy:organization_create"), {"reseller": reseller_a_inactive.pk, "name": "X"}
    )
    assert response.status_code == 403
    assert "is inactive" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", OTHERS)
def test_other_users_keep_their_access(client_for, reseller_a_inactive, role):
    assert client_for(role).get(reverse("callback:extension_list")).status_code == 200


@pytest.mark.django_db
def test_reactivating_the_reseller_gives_its_users_their_panel_back(
    client_for, reseller_a_inactive
):
    client = client_for("reseller_a")
    assert client.get(reverse("callback:extension_list")).status_code == 403
    Reseller.objects.filter(pk=reseller_a_inactive.pk).update(active=True)
    assert client.get(reverse("callback:extension_list")).status_code == 200


@pytest.mark.django_db
def test_the_role_check_costs_one_query_for_profile_and_reseller(cast, django_assert_num_queries):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=cast["reseller_a"].pk)
    with django_assert_num_queries(1):
        assert scoping.role_of(user) == "reseller"
        assert scoping.reseller_of(user).name == "Reseller A"
        assert scoping.may_grant_unlimited(user)
