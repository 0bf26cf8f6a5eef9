"""Every URL of the panel, walked as every role (SPEC §1: a reseller never sees another
reseller's data, not even counts; staff only look; anonymous users log in first).

Reseller B's objects carry marker strings; no page, dropdown, message or export that
reseller A or its staff can reach may contain one of them.
"""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tenancy.models import AuditEvent
from tests.html_support import duplicate_ids

# Text only reseller B's objects contain.
B_MARKERS = ["Reseller B", "Org B1", "0004*001", "721999888", "4031555999", "Token of B"]
PUBLIC = {"login", "logout", "healthz", "favicon", "password_change", "password_change_done"}
SKIPPED_NAMESPACES = {"api", "admin"}  # the API has its own tests; the Django admin is superusers'
WRITE_WORDS = (
    "create",
    "edit",
    "active",
    "delete",
    "activate",
    "password",
    "revoke",
    "bulk",
    "toggle",
    "add",
    "import",
    "charging",
    "license",
    "callerid_credit",
    "release",
    "destination_rules",
)


def _panel_urls():
    """(name, kwargs names) of every URL of the panel."""

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if namespace in SKIPPED_NAMESPACES or pattern.name in PUBLIC:
                    continue
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, tuple(pattern.pattern.regex.groupindex)

    return sorted(set(walk(get_resolver().url_patterns)))


PANEL_URLS = _panel_urls()


def _kind_of(name: str) -> str | None:
    """Which object a URL's pk names."""
    short = name.split(":")[1] if ":" in name else name
    if short.startswith("reseller"):
        return "reseller"
    if short.startswith("organization"):
        return "organization"
    if short.startswith("user"):
        return "user"
    if short.startswith("token"):
        return "token"
    if name in ("callerids:toggle", "callerids:edit", "credit:callerid_credit"):
        return "callerid"
    return "extension"


def _url(name, params, objects):
    kwargs = {}
    for param in params:
        if param == "token":
            kwargs["token"] = uuid.uuid4()
        elif param == "identifier":
            return None  # exports are walked below
        else:
            target = objects[_kind_of(name)]
            if target is None:
                return None
            kwargs[param] = target.pk
    return reverse(name, kwargs=kwargs)


def _content(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _assert_no_marker(response, where):
    content = _content(response)
    for marker in B_MARKERS:
        assert marker not in content, f"{where} shows {marker!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["reseller_a", "staff_a"])
def test_no_page_of_reseller_a_names_anything_of_reseller_b(client_for, world, role):
    client = client_for(role)
    for name, params in PANEL_URLS:
        for side in ("a", "b"):
            url = _url(name, params, world[side])
            if url is None:
                continue
            response = client.get(url)
            where = f"GET {url} as {role}"
            assert response.status_code != 500, where
            _assert_no_marker(response, where)
            if side == "b" and params:
                assert response.status_code in (403, 404, 405), where


EXPORTS = [
    ("callerids", {"extension": "extension"}),
    ("callerids_all", {}),
    ("extension_list_callerids", {}),
    ("recharge_history", {"callerid": "callerid"}),
    ("cost_report", {"extension": "extension"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["reseller_a", "staff_a"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_export_of_reseller_a_holds_anything_of_reseller_b(client_for, world, role, file_format):
    client = client_for(role)
    for identifier, params in EXPORTS:
        url = reverse("exports:download", args=[identifier, file_format])
        for side in ("a", "b"):
            query = {param: world[side][kind].pk for param, kind in params.items()}
            response = client.get(url, query)
            where = f"{identifier}.{file_format} of {side} as {role}"
            if side == "b" and params:
                assert response.status_code == 404, where
            else:
                assert response.status_code == 200, where
                if file_format == "csv":
                    _assert_no_marker(response, where)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff_a", "staff_server"])
def test_staff_write_attempts_are_refused_everywhere_and_change_nothing(client_for, world, role):
    client = client_for(role)
    events = AuditEvent.objects.count()
    for name, params in PANEL_URLS:
        short = name.split(":")[-1]
        if not any(word in short for word in WRITE_WORDS):
            continue
        url = _url(name, params, world["a"])
        if url is None:
            continue
        response = client.post(url, {"name": "Changed", "active": "1"})
        # 405: a GET-only page (e.g. the import's error report) refuses any POST anyway.
        assert response.status_code in (403, 405), f"POST {url} as {role}: {response.status_code}"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login_page_from_every_panel_url(client, world):
    login = reverse("login")
    for name, params in PANEL_URLS:
        url = _url(name, params, world["a"])
        if url is None:
            continue
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url
    export = client.get(
        reverse("exports:download", args=["callerids", "csv"]),
        {"extension": world["a"]["extension"].pk},
    )
    assert export.status_code == 302 and export["Location"].startswith(login)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "reseller_a", "staff_a"])
def test_no_page_has_two_elements_with_the_same_id(client_for, world, role):
    """A label's `for` and a link's #anchor reach one element only (issue 16: the credit
    page had two id="id_order_number", so a label focused the other form's field)."""
    client = client_for(role)
    walked, duplicated = 0, {}
    for name, params in PANEL_URLS:
        url = _url(name, params, world["a"])
        if url is None:
            continue
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        walked += 1
        if duplicates := duplicate_ids(_content(response)):
            duplicated[url] = duplicates
    assert duplicated == {}
    assert walked >= 5


@pytest.mark.django_db
def test_pages_reached_only_through_a_step_have_unique_ids_too(client_for, world):
    """The import report (after Check) and a refused Add credit form are not in the walk."""
    client = client_for("reseller_a")
    extension, callerid = world["a"]["extension"], world["a"]["callerid"]
    upload = client.post(
        reverse("callerids:import", args=[extension.pk]),
        {"file": SimpleUploadedFile("n.csv", b"1234,,,1\nabc\n"), "separator": ","},
    )
    assert upload.status_code == 302
    refused = client.post(
        reverse("credit:callerid_credit", args=[callerid.pk]),
        {"amount": "-100", "order_number": "X", "one_time_key": str(uuid.uuid4())},
    )
    assert refused.status_code == 200
    for response in (client.get(upload["Location"]), refused):
        assert duplicate_ids(_content(response)) == []
