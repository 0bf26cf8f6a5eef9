"""The panel lists page 25 rows whatever the URL asks: `per_page` is not the URL's to set
(a negative one answered 500, found by tests/panel/test_panel_fuzz.py), and a page
number outside the list shows the nearest page. The audit log pages by key: its own tests."""

import pytest
from django.urls import reverse

from tenancy.models import Organization

pytestmark = pytest.mark.django_db

LISTS = [
    "tenancy:organization_list",
    "tenancy:reseller_list",
    "tenancy:user_list",
    "callback:extension_list",
    "tenancy:token_list",
]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("per_page", ["-1", "0", "1000000", "abc"])
def test_per_page_in_the_url_is_ignored(client_for, reseller_a, name, per_page):
    Organization.objects.bulk_create(
        Organization(reseller=reseller_a, name=f"Org {n:03d}") for n in range(30)
    )
    response = client_for("admin").get(reverse(name), {"per_page": per_page})

    assert response.status_code == 200
    assert response.context["table"].page.per_page == 25


@pytest.mark.parametrize("page", ["-1", "0", "99999999999999999999", "x", "2"])
def test_a_page_outside_the_list_shows_the_nearest(client_for, reseller_a, page):
    Organization.objects.bulk_create(
        Organization(reseller=reseller_a, name=f"Org {n:03d}") for n in range(30)
    )
    response = client_for("admin").get(reverse("tenancy:organization_list"), {"page": page})

    assert response.status_code == 200
    expected = {"-1": 1, "0": 1, "x": 1, "2": 2, "99999999999999999999": 2}[page]
    assert response.context["table"].page.number == expected
