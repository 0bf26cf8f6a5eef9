"""While no default country is set, numbers typed without + are stored as typed, so one
caller can exist twice (0722111001 and +40722111001): the Charging page and the add and
import pages say so and point to the Charging page (issue 16)."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tenancy.preferences import get_preferences

pytestmark = pytest.mark.django_db

WARNING = 'data-testid="no-default-country"'


def set_country(code: str) -> None:
    preferences = get_preferences()
    preferences.default_country = code
    preferences.save()


def pages(extension):
    return [
        reverse("callerids:add", args=[extension.pk]),
        reverse("callerids:import", args=[extension.pk]),
    ]


def test_the_charging_page_warns_while_no_default_country_is_set(client_for):
    set_country("")
    html = client_for("admin").get(reverse("credit:charging")).content.decode()
    assert WARNING in html
    assert "stored as typed" in html
    set_country("RO")
    assert WARNING not in client_for("admin").get(reverse("credit:charging")).content.decode()


def test_an_admin_is_pointed_to_the_charging_page_from_the_add_and_import_pages(
    client_for, extension_a
):
    set_country("")
    for url in pages(extension_a):
        html = client_for("admin").get(url).content.decode()
        assert WARNING in html, url
        warning = html[html.index(WARNING) : html.index("</div>", html.index(WARNING))]
        assert f'href="{reverse("credit:charging")}"' in warning, url


def test_a_reseller_is_told_to_ask_an_administrator(client_for, extension_a):
    set_country("")
    for url in pages(extension_a):
        html = client_for("reseller_a").get(url).content.decode()
        assert WARNING in html, url
        warning = html[html.index(WARNING) : html.index("</div>", html.index(WARNING))]
        assert "ask an administrator" in warning, url
        assert reverse("credit:charging") not in warning, url


def test_no_warning_once_a_default_country_is_set(client_for, extension_a):
    set_country("RO")
    for url in pages(extension_a):
        assert WARNING not in client_for("reseller_a").get(url).content.decode(), url


def test_the_demo_data_sets_romania_as_the_default_country():
    set_country("")
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert get_preferences().default_country == "RO"
