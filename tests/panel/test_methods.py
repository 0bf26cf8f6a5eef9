"""Which methods a panel page answers (panel/methods.py): a page with nothing to submit
answers 405 to POST and says which methods it takes; HEAD answers where GET does.
Every URL as every role: tests/test_url_permissions.py."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def allowed(response) -> set[str]:
    return {method.strip() for method in response["Allow"].split(",")}


@pytest.mark.parametrize("name", ["home", "callback:extension_list"])
@pytest.mark.parametrize("role", ["admin", "reseller_a", "staff_a"])
def test_a_post_to_a_page_without_a_form_answers_405_naming_get_and_head(client_for, name, role):
    response = client_for(role).post(reverse(name), {"name": "anything"})
    assert response.status_code == 405
    assert allowed(response) == {"GET", "HEAD"}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_on_a_page_without_a_form_answer_405(client_for, method):
    response = getattr(client_for("admin"), method)(reverse("callback:extension_list"))
    assert response.status_code == 405
    assert allowed(response) == {"GET", "HEAD"}


def test_a_page_with_a_form_names_post_too(client_for):
    response = client_for("admin").put(reverse("tenancy:organization_create"))
    assert response.status_code == 405
    assert allowed(response) == {"GET", "HEAD", "POST"}


def test_head_answers_where_get_does_without_a_body(client_for, extension_a):
    client = client_for("reseller_a")
    for url in (
        reverse("home"),
        reverse("callback:extension_list"),
        reverse("callback:extension_detail", args=[extension_a.pk]),
        reverse("tenancy:organization_create"),
    ):
        response = client.head(url)
        assert (response.status_code, response.content) == (200, b""), url


def test_the_login_page_refuses_put_even_to_a_logged_in_user(client_for, client):
    assert client_for("reseller_a").put(reverse("login")).status_code == 405
    assert client.put(reverse("login")).status_code == 405


def test_an_anonymous_post_is_still_sent_to_the_login_page(client):
    response = client.post(reverse("callback:extension_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
