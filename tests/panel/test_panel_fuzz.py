"""Fuzz every panel page (issue 16, "Done when"): for each URL of the panel walk, hypothesis
generates GET query strings and POST bodies from the fields of the page's own forms (plus the
parameters the pages read from the URL), sent as an administrator and as a reseller. No
answer may be a 500: Django's test client re-raises any unhandled exception, so one fails
the example, and hypothesis shrinks it to the smallest request that breaks.

Bounded and derandomized: PANEL_FUZZ_EXAMPLES examples per URL (default 15; each example
picks a role, a method and up to 8 fields): about 1,100 requests, a minute or two. The
API has its own schema fuzz (tests/api/test_schema_fuzz.py).
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callerids.importing.services import check_import
from callerids.models import License
from tenancy.audit import SYSTEM, Actor
from tenancy.services.tokens import create_token
from tests.panel.test_panel_walk import PANEL_URLS, _url

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PANEL_FUZZ_EXAMPLES", "15"))
ONLY = os.environ.get("PANEL_FUZZ_ONLY", "")  # e.g. "/credit/": only the URLs containing it
ROLES = ("admin", "reseller_a")
# Parameters pages read from the URL without a form field naming them.
URL_PARAMS = ("page", "sort", "per_page", "q", "from", "to", "number", "callerid", "status")
EXPORTS = {
    "callerids": "extension",
    "callerids_all": None,
    "recharge_history": "callerid",
    "cost_report": "extension",
    "extensions": None,
    "resellers": None,
    "organizations": None,
    "users": None,
    "audit": None,
    "api_tokens": None,
}
EXPORT_PARAMS = (
    "q",
    "status",
    "credit",
    "sort",
    "from",
    "to",
    "number",
    "callerid",
    "date_from",
    "date_to",
    "order_number",
    "dialect",
    "active",
    "organization",
    "reseller",
    "role",
    "actor",
    "action",
    "object",
)

# Text a user or an attacker may type: edges of numbers, dates and encodings.
EDGES = [
    "",
    " ",
    "0",
    "-0",
    "-0.0",
    "-1",
    "1e999",
    "NaN",
    "Infinity",
    "0.00001",
    "1.5",
    "1,5",
    "9" * 30,
    "-" + "9" * 30,
    "2**63",
    str(2**63),
    str(2**31),
    "9999-12-31",
    "0001-01-01",
    "1969-12-31",
    "2026-02-30",
    "2026-11-01",
    "u",
    "unlimited",
    "on",
    "true",
    "false",
    "+40721000111",
    "0721 000 111",
    "1234",
    "١٢٣",
    "a\x00b",
    "\ud800",
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "%",
    "*",
    "x" * 300,
    "-number",
    "number",
    "-created",
    "available",
]


DATE_EDGES = ["9999-12-31", "0001-01-01", "1970-01-01", "9998-12-31"]
NUMBER_EDGES = ["-0", "-0.00", "0", "0.0001", "1000000", "1000000.01", "-1000000", "1e3", "١"]


def kind_of(name: str, input_type: str | None) -> str:
    if input_type == "date" or "date" in name or name in ("from", "to"):
        return "date"
    if input_type == "number" or name.split("-")[-1] in (
        "amount",
        "credit",
        "min_credit",
        "max_active_callerids",
        "decimals",
        "pin_lock_limit",
        "page",
        "callerid",
    ):
        return "number"
    return "text"


class FormFields(HTMLParser):
    """The forms of a page: (method, action, {field name: [known values]})."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append((method, attrs.get("action") or "", {}))
            return
        if not self.forms:
            return
        fields = self.forms[-1][2]
        name = attrs.get("name")
        if tag in ("input", "textarea", "select") and name:
            values = fields.setdefault(name, [])
            if kind_of(name, attrs.get("type")) != "text":
                values.append(f"\x00{kind_of(name, attrs.get('type'))}")
            if attrs.get("value"):
                values.append(attrs["value"])
            if tag == "input" and attrs.get("type") == "file":
                values.append("\x00file")
            self._select = name if tag == "select" else None
        elif tag == "option" and self._select and attrs.get("value") is not None:
            fields[self._select].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[tuple[str, str, dict[str, list[str]]]]:
    parser = FormFields()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def targets(world, cast, client_for, reseller_a, extension_a):
    """{url: {"get": {name: values}, "post": {name: values}}} for every panel URL of side A,
    its fields read from the forms of every page (a form posts to its action)."""
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 1000})
    side = dict(world["a"])
    side["token"] = create_token(actor=SYSTEM, name="Token of A", reseller=reseller_a).token
    job = check_import(
        actor=Actor(user=cast["admin"]),
        extension=extension_a,
        content=b"0721000123,1234,O-1,5\nabc\n",
        file_name="numbers.csv",
        separator=",",
    )
    urls = {}
    for name, params in PANEL_URLS:
        if "token" in params and name.startswith("callerids:import"):
            url = reverse(name, args=[extension_a.pk, job.token])
        else:
            url = _url(name, params, side)
        if url is not None:
            urls[url] = {"get": {}, "post": {}}
    for identifier, param in EXPORTS.items():
        for file_format in ("csv", "xlsx"):
            url = reverse("exports:download", args=[identifier, file_format])
            fixed = {param: [str(side["callerid" if param == "callerid" else "extension"].pk)]}
            urls[url] = {"get": {**(fixed if param else {}), **{p: [] for p in EXPORT_PARAMS}}}
            urls[url]["post"] = {}
    admin = client_for("admin")
    for url in list(urls):
        if url.startswith("/exports/"):
            continue
        response = admin.get(url)
        if response.status_code != 200 or getattr(response, "streaming", False):
            continue
        for method, action, fields in forms_of(response.content.decode()):
            target = urls.get(action or url)
            if target is not None:
                for field, values in fields.items():
                    target[method].setdefault(field, []).extend(values)
    for target in urls.values():
        for param in URL_PARAMS:
            target["get"].setdefault(param, [])
    return urls


def value_for(name: str, known: list[str]):
    """Values for one field: what the page offers, then edges of its kind, then any text."""
    kind = kind_of(name, None)
    for marker in ("\x00date", "\x00number"):
        if marker in known:
            kind = marker[1:]
    offered = [value for value in known if not value.startswith("\x00")]
    choices = [st.sampled_from(offered)] if offered else []
    # Edges of the field's kind come first and twice: where the bugs were.
    if kind == "date":
        choices += [st.sampled_from(DATE_EDGES)] * 2 + [st.dates().map(str)]
    elif kind == "number":
        choices += [st.sampled_from(NUMBER_EDGES)] * 2 + [
            st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
            st.integers().map(str),
        ]
    choices += [st.sampled_from(EDGES), st.text(max_size=40)]
    return st.one_of(*choices)


def request_strategy(fields: dict[str, list[str]]):
    """Up to 8 of the fields; the page's own form fields more often than URL_PARAMS."""
    names = sorted(fields)
    if not names:
        return st.just({})
    own = [name for name in names if name not in URL_PARAMS] or names
    return st.dictionaries(
        st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(names)),
        st.just(None),
        max_size=min(8, len(names)),
    ).flatmap(
        lambda chosen: st.fixed_dictionaries(
            {name: value_for(name, fields[name]) for name in chosen}
        )
    )


def upload(data) -> SimpleUploadedFile:
    name = data.draw(st.sampled_from(["numbers.csv", "numbers.xlsx", "numbers.xls", "x"]))
    content = data.draw(
        st.one_of(
            st.binary(max_size=512),
            st.lists(st.sampled_from(EDGES), max_size=12).map(
                lambda cells: "\n".join(",".join(cells[i : i + 4]) for i in range(0, 12, 4)).encode(
                    "utf-8", "surrogatepass"
                )
            ),
        )
    )
    return SimpleUploadedFile(name, content)


def raw(value: str) -> bytes:
    """The bytes a browser (or an attacker) may send, lone surrogates included."""
    return value.encode("utf-8", "surrogatepass")


def send(client: Client, method: str, url: str, body: dict):
    files = {name: value for name, value in body.items() if isinstance(value, SimpleUploadedFile)}
    if method == "get":
        return client.get(f"{url}?{urlencode({k: raw(v) for k, v in body.items()})}")
    if files:
        texts = {
            name: raw(value).decode("utf-8", "replace")
            for name, value in body.items()
            if name not in files
        }
        return client.post(url, {**texts, **files})
    encoded = urlencode({name: raw(value) for name, value in body.items()})
    return client.post(url, encoded, content_type="application/x-www-form-urlencoded")


def test_the_fuzz_reaches_every_panel_url_and_form(targets, extension_a, world):
    assert len(targets) > 60
    add = targets[reverse("callerids:add", args=[extension_a.pk])]["post"]
    assert {"rows-0-number", "rows-9-credit", "one_time_key"} <= set(add)
    credit = reverse("credit:callerid_credit", args=[world["a"]["callerid"].pk])
    assert {"amount", "order_number", "date_from", "date_to"} <= set(targets[credit]["post"]) | set(
        targets[credit]["get"]
    )
    assert "file" in targets[reverse("callerids:import", args=[extension_a.pk])]["post"]


# A generated `sort` with a dot makes django-tables2 warn about its accessor syntax.
@pytest.mark.filterwarnings("ignore:Use '__' to separate path components")
def test_no_panel_request_answers_500(targets, cast):
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        clients[role].force_login(cast[role])
    urls = [url for url in sorted(targets) if ONLY in url]

    @settings(
        max_examples=EXAMPLES * len(urls),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data):
        url = data.draw(st.sampled_from(urls), label="url")
        role = data.draw(st.sampled_from(ROLES), label="role")
        methods = ["get", "post"] if targets[url]["post"] else ["get"]
        method = data.draw(st.sampled_from(methods), label="method")
        body = data.draw(request_strategy(targets[url][method]), label="fields")
        body = {
            name: upload(data) if "\x00file" in targets[url][method][name] else value
            for name, value in body.items()
        }
        # Each example starts from the same world: a delete or a deactivation is undone.
        with transaction.atomic():
            response = send(clients[role], method, url, body)
            assert response.status_code < 500, (role, method, url, body)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # an export can fail while it streams
            transaction.set_rollback(True)
        if response.status_code == 302 and "/login/" in response["Location"]:
            clients[role].force_login(cast[role])  # a password change logged it out

    check()
