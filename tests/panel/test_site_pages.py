"""Pages of the site itself (issue 22): the 404 page in the product's style with DEBUG off,
the favicon, the skip link."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_an_unknown_address_answers_the_products_404_page(client_for):
    response = client_for("reseller_a").get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found · Callback Manager</title>" in html
    assert 'aria-label="Main navigation"' in html  # the panel's own layout, with its menu
    assert "Back to the panel" in html and "/no/such/page/" in html
    assert "Traceback" not in html and "Django" not in html


@override_settings(DEBUG=False)
def test_an_object_outside_the_scope_answers_the_same_404_page(client_for, extension_b):
    response = client_for("reseller_a").get(f"/extensions/{extension_b.pk}/callerids/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_every_page_names_its_favicon_and_the_old_address_leads_to_it(client_for, client):
    html = client_for("admin").get("/").content.decode()
    assert 'rel="icon"' in html and "favicon" in html and 'type="image/svg+xml"' in html
    response = client.get("/favicon.ico")  # asked without logging in
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_every_page_starts_with_a_skip_link_to_its_content(client_for, client):
    for html in (
        client_for("staff_a").get("/").content.decode(),
        client.get("/login/").content.decode(),
    ):
        body = html.split("<body", 1)[1]
        first_link = body.split("<a ", 1)[1]
        assert first_link.startswith('class="skip-link') and 'href="#main"' in first_link
        assert 'id="main"' in html
