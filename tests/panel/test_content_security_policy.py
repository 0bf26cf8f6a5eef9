"""A Content-Security-Policy on every page, and pages that need nothing it forbids: no
inline script, no `on…=` handler, no style attribute, inline <style> only with the request's
nonce (issue 16 item 13). The browser side: tests/e2e/conftest.py fails a journey on any
CSP report in the console."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from credit.models import Call
from tests.panel.test_panel_walk import PANEL_URLS, _url

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\s on[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b([^>]*)>", re.I)


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()
    }


def assert_page_keeps_the_policy(response, where: str) -> None:
    policy = directives(response)
    assert policy["default-src"] == "'self'", where
    assert policy["script-src"] == "'self'", where
    assert "unsafe-inline" not in response["Content-Security-Policy"], where
    assert "unsafe-eval" not in response["Content-Security-Policy"], where
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", where
    if not response["Content-Type"].startswith("text/html"):
        return
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), f"{where}: inline <script>"
    assert not HANDLER.search(html), f"{where}: an on…= handler"
    assert not STYLE_ATTRIBUTE.search(html), f"{where}: a style attribute"
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", policy["style-src"]).group(1)
    for attributes in STYLE_ELEMENT.findall(html):
        assert f'nonce="{nonce}"' in attributes, f"{where}: <style> without the nonce"


@pytest.fixture
def calls(world):
    extension = world["a"]["extension"]
    Call.objects.create(
        call_id="a-call-1",
        extension=extension,
        callerid=world["a"]["callerid"],
        caller_id="+40721000111",
        destination="+4031000000",
        started_at=dt.datetime.now(dt.UTC),
        duration_seconds=60,
        cost=1,
        charged=1,
        shortfall=0,
        metered=True,
    )


def test_every_panel_page_sends_the_policy_and_keeps_it(client_for, world, calls):
    client = client_for("admin")
    walked = 0
    for name, params in PANEL_URLS:
        url = _url(name, params, world["a"])
        if url is None:
            continue
        response = client.get(url)
        if response.status_code == 405 or getattr(response, "streaming", False):
            continue
        assert_page_keeps_the_policy(response, f"GET {url}")
        walked += 1
    assert walked > 30


def test_the_cost_reports_chart_styles_carry_the_nonce(client_for, world, calls):
    response = client_for("admin").get(
        reverse("credit:cost_report", args=[world["a"]["extension"].pk])
    )
    assert "<style" in response.content.decode()  # pygal's, inside the SVG
    assert_page_keeps_the_policy(response, "cost report")


@pytest.mark.parametrize("path", ["/login/", "/healthz", "/api/v1/openapi.json"])
def test_public_pages_and_the_api_send_it_too(client, path):
    response = client.get(path)
    assert_page_keeps_the_policy(response, path)


def test_the_new_token_page_selects_the_token_without_an_inline_handler(client_for, admin_user):
    client = client_for("admin")
    response = client.post(
        reverse("tenancy:token_create"), {"name": "pbx9", "permissions": ["pbx"]}, follow=True
    )
    html = response.content.decode()
    assert 'data-testid="api-token"' in html
    assert "js/token_created.js" in html
    assert_page_keeps_the_policy(response, "new token")


def test_each_response_gets_its_own_nonce(client_for, world):
    client = client_for("admin")
    first = directives(client.get("/"))["style-src"]
    second = directives(client.get("/"))["style-src"]
    assert first != second


def test_an_operator_session_lasts_8_hours(client, admin_user):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 8 * 60 * 60
    assert client.session.get_expiry_age() == 8 * 60 * 60


def test_the_session_lifetime_comes_from_the_environment():
    from tests.panel.test_startup_settings import start_python

    assert (
        start_python(
            "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)",
            SESSION_COOKIE_AGE="3600",
        ).stdout.strip()
        == "3600"
    )


def test_djangos_debug_error_pages_stay_readable_in_development(client_for, settings):
    settings.DEBUG = True
    response = client_for("admin").get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response
    settings.DEBUG = False
    assert "Content-Security-Policy" in client_for("admin").get("/no-such-page/")


def test_no_template_carries_a_style_attribute_or_an_inline_handler():
    """Pages reached only through a step (e.g. an import running in a worker) are not in the
    panel walk: the templates themselves hold nothing the policy would block."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # Every app keeps its templates in <app>/templates/.
    paths = sorted(root.glob("*/templates/**/*.html"))
    assert len(paths) > 50
    blocked = re.compile(r"""\sstyle\s*=|\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in paths
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if blocked.search(line)
    ]
    assert found == []
