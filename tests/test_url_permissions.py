"""Who may reach what: every URL of the panel, GET and POST, as every role, against one
table (pretix style). SPEC §1: admins see and change everything; a reseller only its own
(another reseller's objects answer 404); staff only look (403 on a change); anonymous users
are sent to the login page.

The URLs are read from the resolver when the tests are collected: a URL that is not in the
table fails `test_every_panel_url_is_in_the_table`, and a row of the table whose URL is gone
fails `test_the_table_names_only_urls_that_exist`. The table is keyed by the URL's route
(its pattern), with the view's name beside it.

Every object a URL names belongs to reseller A (made by tests.factories), so "reseller_b" is
the other reseller, an outsider to them. A POST sends no fields: the table says who gets
through to the view (a form with errors answers 200), not what a valid form does; the
behaviour tests of each page check that.

Methods (panel/methods.py): a page with nothing to submit answers 405 to POST, whoever
asks, and a POST answered 200 must show a form posting back to the page, so a page that
runs a POST as if it were a GET cannot be written into the table as 200. HEAD answers as
GET does; PUT, PATCH and DELETE answer 405 everywhere (anonymous users are sent to the
login page first, as for GET).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from credit.models import CallHold
from tests import factories
from tests.conftest import ROLES
from tests.html_support import posts_to_itself

# Routes under these prefixes are not the panel; each has its own tests.
EXCLUDED = {
    "api/v1/": "the PBX and provisioning API: bearer tokens, not the panel's login (tests/api)",
    "django-admin/": "the Django admin: superusers only (tests/callback/test_admin.py)",
}
METHODS = ("GET", "POST")
OTHER_METHODS = ("PUT", "PATCH", "DELETE")  # no panel page takes them: 405
LOGIN = "login"  # a 302 to the login page

# route: (view name, GET statuses, POST statuses); statuses in the order of ROLES:
#                   admin, reseller_a, reseller_b, staff_a, staff_server, anonymous
# fmt: off
TABLE: dict[str, tuple[str, tuple, tuple]] = {
    "": ("home",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "audit/": ("audit_list",
        (200, 403, 403, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "callerids/<int:pk>/credit/": ("callerid_credit",
        (200, 200, 404, 200, 200, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "callerids/<int:pk>/edit/": ("edit",
        (200, 200, 404, 403, 403, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "callerids/<int:pk>/toggle/": ("toggle",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "charging/": ("charging",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "credit-watch/": ("credit_watch",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "destination-rules/": ("destination_rules",
        (200, 302, 302, 403, 403, LOGIN), (302, 302, 302, 403, 403, LOGIN)),
    "exports/<slug:identifier>.<slug:file_format>": ("download",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/": ("extension_list",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/": ("extension_detail",
        (200, 200, 404, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/activate/": ("extension_activate",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/callerids/": ("list",
        (200, 200, 404, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/callerids/add/": ("add",
        (200, 200, 404, 403, 403, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/callerids/bulk/": ("bulk",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/callerids/import/": ("import",
        (200, 200, 404, 403, 403, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/callerids/import/<uuid:token>/": ("import_report",
        (200, 200, 404, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/callerids/import/<uuid:token>/confirm/": ("import_confirm",
        (405, 405, 405, 405, 405, LOGIN), (404, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/callerids/import/<uuid:token>/errors.csv": ("import_errors",
        (200, 200, 404, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/callerids/import/<uuid:token>/progress/": ("import_progress",
        (200, 200, 404, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/callerids/import/<uuid:token>/retry/": ("import_retry",
        (405, 405, 405, 405, 405, LOGIN), (404, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/calls-in-progress/": ("calls_in_progress",
        (200, 200, 404, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/calls-in-progress/<int:hold_pk>/release/": ("calls_in_progress_release",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/cost-report/": ("cost_report",
        (200, 200, 404, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "extensions/<int:pk>/deactivate/": ("extension_deactivate",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/delete/": ("extension_delete",
        (200, 200, 404, 403, 403, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "extensions/<int:pk>/edit/": ("extension_edit",
        (200, 200, 404, 403, 403, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "extensions/new/": ("extension_create",
        (200, 200, 200, 403, 403, LOGIN), (200, 200, 200, 403, 403, LOGIN)),
    "favicon.ico": ("favicon",
        (301, 301, 301, 301, 301, 301), (405, 405, 405, 405, 405, 405)),
    "healthz": ("healthz",
        (200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405)),
    "license/": ("license",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "login/": ("login",
        (302, 302, 302, 302, 302, 200), (302, 302, 302, 302, 302, 200)),
    "logout/": ("logout",
        (405, 405, 405, 405, 405, LOGIN), (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "notifications/": ("index",
        (200, 302, 302, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "notifications/deliveries/<int:pk>/retry/": ("retry",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "notifications/resellers/<int:pk>/": ("reseller",
        (200, 200, 404, 403, 403, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "notifications/server/": ("server",
        (200, 403, 403, 403, 403, LOGIN), (302, 403, 403, 403, 403, LOGIN)),
    "organizations/": ("organization_list",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "organizations/<int:pk>/": ("organization_edit",
        (200, 200, 404, 403, 403, LOGIN), (200, 200, 404, 403, 403, LOGIN)),
    "organizations/<int:pk>/active/": ("organization_set_active",
        (405, 405, 405, 405, 405, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "organizations/<int:pk>/delete/": ("organization_delete",
        (200, 200, 404, 403, 403, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "organizations/new/": ("organization_create",
        (200, 200, 200, 403, 403, LOGIN), (200, 200, 200, 403, 403, LOGIN)),
    "panel/cost-chart-<slug:size>.svg": ("home_cost_chart",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "password/": ("password_change",
        (200, 200, 200, 200, 200, LOGIN), (200, 200, 200, 200, 200, LOGIN)),
    "password/done/": ("password_change_done",
        (200, 200, 200, 200, 200, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "resellers/": ("reseller_list",
        (200, 403, 403, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "resellers/<int:pk>/": ("reseller_edit",
        (200, 403, 404, 403, 403, LOGIN), (200, 403, 404, 403, 403, LOGIN)),
    "resellers/<int:pk>/active/": ("reseller_set_active",
        (405, 405, 405, 405, 405, LOGIN), (302, 403, 404, 403, 403, LOGIN)),
    "resellers/<int:pk>/delete/": ("reseller_delete",
        (200, 403, 404, 403, 403, LOGIN), (302, 403, 404, 403, 403, LOGIN)),
    "resellers/<int:pk>/destination-rules/": ("reseller_destination_rules",
        (200, 200, 404, 403, 403, LOGIN), (302, 302, 404, 403, 403, LOGIN)),
    "resellers/new/": ("reseller_create",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "tokens/": ("token_list",
        (200, 403, 403, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "tokens/<int:pk>/created/": ("token_created",
        (200, 403, 403, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "tokens/<int:pk>/revoke/": ("token_revoke",
        (200, 403, 403, 403, 403, LOGIN), (302, 403, 403, 403, 403, LOGIN)),
    "tokens/new/": ("token_create",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "users/": ("user_list",
        (200, 403, 403, 403, 403, LOGIN), (405, 405, 405, 405, 405, LOGIN)),
    "users/<int:pk>/": ("user_edit",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "users/<int:pk>/active/": ("user_set_active",
        (405, 405, 405, 405, 405, LOGIN), (302, 403, 403, 403, 403, LOGIN)),
    "users/<int:pk>/password/": ("user_password",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
    "users/new/": ("user_create",
        (200, 403, 403, 403, 403, LOGIN), (200, 403, 403, 403, 403, LOGIN)),
}
# fmt: on


def _routes():
    """{route: view name} of every named URL the resolver knows, outside EXCLUDED."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield route, pattern.name

    return {
        route: name
        for route, name in walk(get_resolver().url_patterns)
        if not any(route.startswith(prefix) for prefix in EXCLUDED)
    }


ROUTES = _routes()


def _full_name(route: str) -> str:
    """The name to reverse() the route with (namespace included), found by its path."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            here = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, here, pattern.namespace or namespace)
            elif here == route:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return next(walk(get_resolver().url_patterns))


# The object a route's `pk` names, by the start of the route.
PK_OWNERS = [
    ("notifications/resellers/", "reseller"),
    ("notifications/deliveries/", "delivery"),
    ("resellers/", "reseller"),
    ("organizations/", "organization"),
    ("users/", "user"),
    ("tokens/", "token"),
    ("callerids/", "callerid"),
    ("extensions/", "extension"),
]


def _url(route: str, objects: dict) -> str:
    kwargs = {}
    for param in RoutePattern(route).regex.groupindex:
        if param == "pk":
            kind = next(kind for start, kind in PK_OWNERS if route.startswith(start))
            kwargs["pk"] = objects[kind].pk
        elif param == "hold_pk":
            kwargs["hold_pk"] = objects["hold"].pk
        elif param == "token":
            kwargs["token"] = objects["import"].token
        elif param == "identifier":
            kwargs["identifier"] = "callerids_all"
        elif param == "file_format":
            kwargs["file_format"] = "csv"
        elif param == "size":
            kwargs["size"] = "wide"
        else:
            raise AssertionError(f"{route}: say which object its <{param}> names")
    return reverse(_full_name(route), kwargs=kwargs)


@pytest.fixture
def objects(cast, reseller_a, org_a, extension_a):
    """One of everything, all reseller A's."""
    alice = cast["reseller_a"]
    callerid = factories.callerid(extension_a, "+40721000111", credit="5")
    pbx = factories.token(reseller_a, "pbx-a").token
    started = factories.call_start(pbx, extension_a, callerid)
    return {
        "reseller": reseller_a,
        "organization": org_a,
        "extension": extension_a,
        "callerid": callerid,
        "user": factories.staff(reseller_a, "tom"),
        "token": factories.token(reseller_a, "Token of A", by=alice).token,
        "hold": CallHold.objects.get(call_id=started.call_id),
        "import": factories.import_job(extension_a, by=alice),
        "delivery": factories.delivery(reseller_a, by=alice),
    }


def _request(user, method: str, url: str):
    """The response `user` (None: anonymous) gets. Each request runs in a savepoint rolled
    back after it, with a client of its own: one role's POST (a logout, a delete) never
    changes what the next one sees."""
    with transaction.atomic():
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.post(url, {}) if method == "POST" else client.generic(method, url)
        transaction.set_rollback(True)
    return response


def _status(response):
    """The response's status, or LOGIN for a redirect to the login page."""
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def test_every_panel_url_is_in_the_table():
    missing = sorted(set(ROUTES) - set(TABLE))
    assert missing == [], f"add these routes to TABLE (status per role): {missing}"


def test_the_table_names_only_urls_that_exist():
    gone = sorted(set(TABLE) - set(ROUTES))
    assert gone == [], f"these routes are gone: remove them from TABLE: {gone}"


def test_each_row_names_the_view_its_route_resolves_to():
    wrong = {route: (row[0], ROUTES[route]) for route, row in TABLE.items() if route in ROUTES}
    assert {route: names for route, names in wrong.items() if names[0] != names[1]} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(set(TABLE) & set(ROUTES)))
def test_each_role_gets_the_status_the_table_says(cast, objects, route):
    url = _url(route, objects)
    expected = {
        (method, role): status
        for method, statuses in zip(METHODS, TABLE[route][1:], strict=True)
        for role, status in zip(ROLES, statuses, strict=True)
    }
    responses = {(method, role): _request(cast[role], method, url) for method, role in expected}
    got = {key: _status(response) for key, response in responses.items()}
    assert got == expected, url
    formless = [
        role
        for (method, role), response in responses.items()
        if method == "POST"
        and response.status_code == 200
        and not posts_to_itself(response.content.decode(), url)
    ]
    assert formless == [], f"{url} answers 200 to POST without a form to post: make it 405"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(set(TABLE) & set(ROUTES)))
def test_head_answers_as_get_does_and_other_methods_are_refused(cast, objects, route):
    url = _url(route, objects)
    get_statuses = dict(zip(ROLES, TABLE[route][1], strict=True))
    expected, got = {}, {}
    for role, user in cast.items():
        # None of these methods changes anything: one client per role is enough.
        client = Client()
        if user is not None:
            client.force_login(user)
        refused = LOGIN if user is None and get_statuses[role] == LOGIN else 405
        expected |= {("HEAD", role): get_statuses[role]}
        expected |= {(method, role): refused for method in OTHER_METHODS}
        got |= {
            (method, role): _status(client.generic(method, url))
            for method in ("HEAD", *OTHER_METHODS)
        }
    assert got == expected, url


def test_the_table_has_a_status_for_every_method_and_role():
    assert {len(row) for row in TABLE.values()} == {1 + len(METHODS)}
    assert {len(statuses) for row in TABLE.values() for statuses in row[1:]} == {len(ROLES)}
