"""Exports of the callback lists: extensions, resellers, organizations, users, audit, tokens.

Each export is read back (CSV and XLSX) and compared cell by cell with the rows its page
lists for the same search and sort, all pages; scope, permissions, parameters, secrets and
query counts are checked for every one.
"""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callback.models import CallbackExtension, ReturnMode
from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent, Reseller, Role
from tenancy.services import tenancy as tenancy_services
from tenancy.services import tokens as token_services
from tests import factories
from tests.exports.helpers import body, read_csv, read_xlsx, utc

EXPORTS = ["extensions", "resellers", "organizations", "users", "audit", "api_tokens"]
ADMIN_ONLY = ["resellers", "users", "audit", "api_tokens"]
PAGES = {
    "extensions": "callback:extension_list",
    "resellers": "tenancy:reseller_list",
    "organizations": "tenancy:organization_list",
    "users": "tenancy:user_list",
    "audit": "tenancy:audit_list",
    "api_tokens": "tenancy:token_list",
}
NEW_PASSWORD = "an0ther-Long-passphrase!"


def set_created(obj, at, field="created_at"):
    type(obj).objects.filter(pk=obj.pk).update(**{field: at})
    obj.refresh_from_db()
    return obj


@pytest.fixture
def world(cast, reseller_a, reseller_b, org_a, org_b, extension_a, extension_b):
    """Rows of every list, some with formula-looking text, created at distinct times."""
    # Counters no CallerID backs: the export writes what the row holds, whatever it is.
    Reseller.objects.filter(pk=reseller_a.pk).update(max_active_callerids=50, active_callerids=7)
    Reseller.objects.filter(pk=reseller_b.pk).update(active_callerids=3)
    set_created(reseller_a, utc(2026, 1, 1, 8))
    set_created(reseller_b, utc(2026, 1, 2, 8))
    reseller_c = set_created(factories.reseller("@Reseller C", active=False), utc(2026, 1, 3, 8))
    set_created(org_a, utc(2026, 2, 1, 8))
    set_created(org_b, utc(2026, 2, 2, 8))
    org_a2 = set_created(
        factories.organization(reseller_a, "=Org A2", active=False),
        utc(2026, 2, 3, 8),
    )
    set_created(extension_a, utc(2026, 3, 1, 8))
    set_created(extension_b, utc(2026, 3, 2, 8))
    set_created(
        factories.extension(
            org_a2,
            "0003*002",
            "-Night line",
            by=cast["admin"],
            active=False,
            return_mode=ReturnMode.FIXED,
            fixed_number="+40721000999",
        ),
        utc(2026, 3, 3, 8),
    )
    carol = factories.staff(reseller_c, "carol")
    get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    get_user_model().objects.create_user(username="=norole", password=NEW_PASSWORD)
    get_user_model().objects.filter(username="alice").update(last_login=utc(2026, 4, 1, 9))
    # Audit events written the way services write them, secrets included.
    admin = Actor(user=cast["admin"], address="192.0.2.7")
    # (carol's: a logged-in member of the cast would lose the session.)
    tenancy_services.set_user_password(actor=admin, user=carol, password=NEW_PASSWORD)
    server_token = token_services.create_token(actor=admin, name="PBX main", reseller=None)
    a_token = token_services.create_token(actor=admin, name="=PBX A", reseller=reseller_a)
    token_services.revoke_token(actor=admin, token=a_token.token)
    ApiToken.objects.filter(pk=server_token.token.pk).update(
        last_used_at=utc(2026, 4, 2, 9), last_used_address="198.51.100.4"
    )
    for minute, event in enumerate(AuditEvent.objects.order_by("pk")):
        set_created(event, utc(2026, 4, 3, 9) + datetime.timedelta(minutes=minute))
    set_created(server_token.token, utc(2026, 4, 4, 9))
    set_created(a_token.token, utc(2026, 4, 5, 9))
    return {"tokens": [server_token, a_token], "reseller_c": reseller_c, "admin": cast["admin"]}


def export(client, identifier, file_format, params=None):
    return client.get(reverse("exports:download", args=[identifier, file_format]), params or {})


def exported_rows(client, identifier, file_format, params=None):
    """The header and data rows of an export, as written (CSV: text; XLSX: typed values)."""
    response = export(client, identifier, file_format, params)
    assert response.status_code == 200, response.content
    data = body(response)
    if file_format == "csv":
        return read_csv(data)
    (rows,) = read_xlsx(data).values()
    return rows


def page_records(client, identifier, params=None):
    """The objects the page lists for this search and sort, all pages, in its order."""
    response = client.get(reverse(PAGES[identifier]), params or {})
    assert response.status_code == 200
    return [row.record for row in response.context["table"].rows]


def local(value):
    return None if value is None else timezone.localtime(value).replace(tzinfo=None, microsecond=0)


def as_written(file_format, row):
    """Expected values as the format writes them: CSV text, XLSX typed (None when empty)."""
    if file_format == "xlsx":
        return [value if value != "" else None for value in row]
    out = []
    for value in row:
        if value is None:
            out.append("")
        elif isinstance(value, datetime.datetime):
            out.append(f"{value:%Y-%m-%d %H:%M:%S}")
        elif isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
            out.append("'" + value)  # formula protection, CSV flavour
        else:
            out.append(str(value))
    return out


def yes_no(value):
    return "Yes" if value else "No"


def status(value):
    return "Active" if value else "Inactive"


# What each export writes for one object of its page (same columns, same order).
EXPECTED = {
    "extensions": lambda e: [
        e.number,
        e.name,
        e.organization.name,
        e.organization.reseller.name,
        e.get_return_mode_display(),
        yes_no(e.active),
        local(e.created_at),
    ],
    "resellers": lambda r: [
        r.name,
        status(r.active),
        r.max_active_callerids,
        r.active_callerids,
        yes_no(r.may_grant_unlimited),
        r.organization_count,
        r.user_count,
        local(r.created_at),
    ],
    "organizations": lambda o: [
        o.name,
        o.reseller.name,
        status(o.active),
        o.extension_count,
        local(o.created_at),
    ],
    "users": lambda u: [
        u.username,
        u.profile.get_role_display() if hasattr(u, "profile") else "no role",
        (
            u.profile.reseller.name
            if hasattr(u, "profile") and u.profile.reseller
            else "whole server"
            if hasattr(u, "profile") and u.profile.role != Role.RESELLER
            else "—"
        ),
        status(u.is_active),
        local(u.last_login),
        local(u.date_joined),
    ],
    "audit": lambda a: [
        local(a.created_at),
        a.actor_label,
        a.action,
        a.object_type or None,
        a.object_repr or None,
        a.reseller.name if a.reseller else None,
        a.address,
        _json(a.before),
        _json(a.after),
    ],
    "api_tokens": lambda t: [
        t.name,
        t.prefix,
        t.reseller.name if t.reseller else "Whole server",
        local(t.created_at),
        t.created_by.username if t.created_by else "manage.py",
        local(t.last_used_at),
        t.last_used_address,
        local(t.revoked_at),
    ],
}

HEADERS = {
    "extensions": [
        "Extension number",
        "Name",
        "Organization",
        "Reseller",
        "Return calls",
        "Active",
        "Created (Europe/Bucharest)",
    ],
    "resellers": [
        "Name",
        "Status",
        "Max active CallerIDs",
        "Active CallerIDs",
        "May grant Unlimited",
        "Organizations",
        "Users",
        "Created (Europe/Bucharest)",
    ],
    "organizations": [
        "Name",
        "Reseller",
        "Status",
        "Callback extensions",
        "Created (Europe/Bucharest)",
    ],
    "users": [
        "Username",
        "Role",
        "Bound to",
        "Status",
        "Last login (Europe/Bucharest)",
        "Date joined (Europe/Bucharest)",
    ],
    "audit": [
        "When (Europe/Bucharest)",
        "Who",
        "Action",
        "Object type",
        "Object",
        "Reseller",
        "From",
        "Before",
        "After",
    ],
    "api_tokens": [
        "Name",
        "Prefix",
        "Scope",
        "Created (Europe/Bucharest)",
        "Created by",
        "Last used (Europe/Bucharest)",
        "Last address",
        "Revoked (Europe/Bucharest)",
    ],
}


def _json(values):
    import json

    return json.dumps(values, ensure_ascii=False, sort_keys=True) if values else None


# One search and one non-default sort per list: the export must follow both.
SEARCHES = {
    "extensions": [{}, {"q": "000", "sort": "-created_at"}, {"active": "no"}],
    "resellers": [{}, {"q": "reseller", "sort": "-active_callerids"}, {"active": "false"}],
    "organizations": [{}, {"q": "org", "sort": "-created_at"}, {"active": "true"}],
    "users": [{}, {"role": "staff", "sort": "-username"}, {"q": "a", "active": "true"}],
    "audit": [{}, {"action": "token", "sort": "created_at"}, {"actor": "adm"}],
    "api_tokens": [{}, {"sort": "name"}, {"sort": "-last_used_at"}],
}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("identifier", "params"),
    [(identifier, params) for identifier, searches in SEARCHES.items() for params in searches],
)
def test_the_export_holds_what_the_page_lists_cell_by_cell(
    client_for, world, identifier, params, file_format
):
    client = client_for("admin")
    records = page_records(client, identifier, params)

    rows = exported_rows(client, identifier, file_format, params)

    assert rows[0] == HEADERS[identifier]
    assert rows[1:] == [as_written(file_format, EXPECTED[identifier](r)) for r in records]
    assert records, "each search lists something"


def test_a_search_that_lists_nothing_exports_only_the_header(client_for, world):
    rows = exported_rows(client_for("admin"), "extensions", "csv", {"q": "nothing-like-this"})

    assert rows == [HEADERS["extensions"]]


def test_the_export_covers_every_page_of_the_list(client_for, world, org_a):
    for n in range(30):
        factories.extension(org_a, f"7{n:03d}", by=world["admin"])
    client = client_for("reseller_a")
    page = client.get(reverse("callback:extension_list"))
    assert len(page.context["table"].page.object_list) == 25

    rows = exported_rows(client, "extensions", "csv")

    assert len(rows) == 1 + 32


def test_formula_looking_text_is_protected_and_numbers_stay_numbers(client_for, world):
    client = client_for("admin")

    extensions = exported_rows(client, "extensions", "csv", {"q": "0003*002"})
    resellers = exported_rows(client, "resellers", "xlsx", {"q": "Reseller A"})

    assert extensions[1][:3] == ["0003*002", "'-Night line", "'=Org A2"]
    assert resellers[1][2:4] == [50, 7]  # real numbers in Excel


def test_the_reseller_without_its_own_cap_has_an_empty_maximum(client_for, world):
    rows = exported_rows(client_for("admin"), "resellers", "csv", {"q": "Reseller B"})

    assert rows[1][2] == ""


# Roles and scope.

SCOPED_EXTENSIONS = {
    "admin": {"0003*001", "0003*002", "0004*001"},
    "staff_server": {"0003*001", "0003*002", "0004*001"},
    "reseller_a": {"0003*001", "0003*002"},
    "staff_a": {"0003*001", "0003*002"},
    "reseller_b": {"0004*001"},
}
SCOPED_ORGANIZATIONS = {
    "admin": {"Org A1", "=Org A2", "Org B1"},
    "staff_server": {"Org A1", "=Org A2", "Org B1"},
    "reseller_a": {"Org A1", "=Org A2"},
    "staff_a": {"Org A1", "=Org A2"},
    "reseller_b": {"Org B1"},
}


@pytest.mark.parametrize("role", list(SCOPED_EXTENSIONS))
def test_every_role_exports_only_the_extensions_it_may_see(client_for, world, role):
    rows = exported_rows(client_for(role), "extensions", "xlsx")

    assert {row[0] for row in rows[1:]} == SCOPED_EXTENSIONS[role]
    assert rows[1:] == [
        as_written("xlsx", EXPECTED["extensions"](r))
        for r in page_records(client_for(role), "extensions")
    ]


@pytest.mark.parametrize("role", list(SCOPED_ORGANIZATIONS))
def test_every_role_exports_only_the_organizations_it_may_see(client_for, world, role):
    rows = exported_rows(client_for(role), "organizations", "csv")

    assert {row[0].removeprefix("'") for row in rows[1:]} == SCOPED_ORGANIZATIONS[role]


def test_reseller_b_searching_for_a_rows_finds_nothing(client_for, world):
    rows = exported_rows(client_for("reseller_b"), "extensions", "csv", {"q": "Reseller A"})

    assert rows == [HEADERS["extensions"]]


def test_reseller_b_cannot_filter_by_an_organization_of_a(client_for, world, org_a):
    response = export(client_for("reseller_b"), "extensions", "csv", {"organization": org_a.pk})

    assert response.status_code == 400
    assert b"organization" in response.content


@pytest.mark.parametrize("identifier", EXPORTS)
@pytest.mark.parametrize(
    ("role", "admin_only_status"),
    [
        ("admin", 200),
        ("reseller_a", 403),
        ("reseller_b", 403),
        ("staff_a", 403),
        ("staff_server", 403),
        ("anonymous", 302),
    ],
)
def test_role_matrix(client_for, world, identifier, role, admin_only_status):
    expected = admin_only_status if identifier in ADMIN_ONLY else 200
    if role == "anonymous":
        expected = 302

    response = export(client_for(role), identifier, "csv")

    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response["Location"]
    # The page answers the same way.
    assert client_for(role).get(reverse(PAGES[identifier])).status_code == expected


@pytest.mark.parametrize("identifier", EXPORTS)
def test_a_user_without_a_role_may_not_export(client, world, identifier):
    client.force_login(get_user_model().objects.get(username="=norole"))

    assert export(client, identifier, "xlsx").status_code == 403


# Parameters.


@pytest.mark.parametrize("identifier", EXPORTS)
@pytest.mark.parametrize(
    "params",
    [
        {"nonsense": "1"},
        {"sort": "no_such_column"},
        {"sort": "actions"},
        {"page": "2"},
        {"extension": "1"},
    ],
)
def test_parameters_the_page_does_not_have_answer_400(client_for, world, identifier, params):
    response = export(client_for("admin"), identifier, "csv", params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("identifier", "params"),
    [
        ("extensions", {"return_mode": "teleport"}),
        ("extensions", {"active": "maybe"}),
        ("resellers", {"active": "perhaps"}),
        ("organizations", {"reseller": "999999"}),
        ("users", {"role": "king"}),
        ("audit", {"date_from": "2026-13-45"}),
    ],
)
def test_bad_search_values_answer_400_naming_the_parameter(client_for, world, identifier, params):
    response = export(client_for("admin"), identifier, "csv", params)

    assert response.status_code == 400
    assert next(iter(params)).encode() in response.content


def test_a_repeated_parameter_answers_400(client_for, world):
    url = reverse("exports:download", args=["users", "csv"])

    assert client_for("admin").get(f"{url}?sort=username&sort=-username").status_code == 400


def test_the_semicolon_dialect_is_accepted(client_for, world):
    response = export(
        client_for("admin"), "resellers", "csv", {"dialect": "semicolon", "q": "Reseller A"}
    )

    rows = read_csv(body(response), delimiter=";")

    assert rows[0] == HEADERS["resellers"]
    assert rows[1][:4] == ["Reseller A", "Active", "50", "7"]


# Secrets.


def test_no_password_hash_leaves_in_any_export(client_for, world):
    client = client_for("admin")
    hashes = list(get_user_model().objects.values_list("password", flat=True))

    text = b"".join(
        body(export(client, identifier, file_format))
        for identifier in EXPORTS
        for file_format in ("csv", "xlsx")
    ).decode("utf-8", "replace")

    assert hashes and all(h and h not in text for h in hashes)
    assert NEW_PASSWORD not in text
    assert "pbkdf2" not in text and "argon2" not in text


def test_no_token_secret_or_hash_leaves_in_any_export(client_for, world):
    client = client_for("admin")
    text = b"".join(body(export(client, identifier, "csv")) for identifier in EXPORTS).decode()

    for created in world["tokens"]:
        secret = created.plaintext.split("_", 2)[2]  # the secret itself may contain "_"
        assert secret not in text
        assert created.token.secret_sha256 not in text
        assert created.plaintext not in text


def test_the_audit_export_says_only_that_a_password_changed(client_for, world):
    rows = exported_rows(client_for("admin"), "audit", "csv", {"object": "carol"})

    assert rows[1][2].startswith("user.")
    assert '"changed"' in rows[1][7] + rows[1][8]


def test_the_users_export_never_reads_the_password_column(client_for, world):
    client = client_for("admin")
    with CaptureQueriesContext(connection) as queries:
        body(export(client, "users", "csv"))

    # The export's query (the session's own lookup of the logged-in user is not it).
    (export_query,) = [q["sql"] for q in queries.captured_queries if "profile__role" in q["sql"]]
    assert "password" not in export_query


def test_the_tokens_export_never_reads_the_secret_hash(client_for, world):
    client = client_for("admin")
    with CaptureQueriesContext(connection) as queries:
        body(export(client, "api_tokens", "csv"))

    assert not any("secret_sha256" in q["sql"] for q in queries.captured_queries)


# Query counts.


def grow(world, org_a, n):
    """n more rows in every list."""
    start = CallbackExtension.objects.count()
    admin = world["admin"]
    for i in range(n):
        organization = factories.organization(org_a.reseller, f"Org {start + i}")
        factories.extension(organization, f"8{start + i:04d}", by=admin)
        factories.reseller(f"Reseller {start + i}")
        factories.staff(None, f"user{start + i}")
        factories.token(None, f"PBX {start + i}", by=admin)


def count_queries(client, identifier, file_format):
    with CaptureQueriesContext(connection) as queries:
        response = export(client, identifier, file_format)
        body(response)
    return len(queries.captured_queries)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("identifier", EXPORTS)
def test_the_number_of_queries_does_not_grow_with_the_rows(
    client_for, world, org_a, identifier, file_format
):
    client = client_for("admin")
    count_queries(client, identifier, file_format)  # warm the session and caches
    few = count_queries(client, identifier, file_format)
    grow(world, org_a, 12)

    many = count_queries(client, identifier, file_format)

    assert many == few
    assert many <= 8


# Buttons on the list pages.


@pytest.mark.parametrize("identifier", EXPORTS)
def test_the_list_page_shows_export_buttons_that_keep_its_search(client_for, world, identifier):
    search = dict(SEARCHES[identifier][1])
    response = client_for("admin").get(
        reverse(PAGES[identifier]), {**search, "page": "1", "per_page": "10"}
    )
    html = response.content.decode()

    assert "Export to Excel" in html and "Export to CSV" in html
    hrefs = [
        part.split('"', 1)[0].replace("&amp;", "&")
        for part in html.split('href="')[1:]
        if part.startswith("/exports/")
    ]
    xlsx = next(h for h in hrefs if urlsplit(h).path == f"/exports/{identifier}.xlsx")
    assert parse_qs(urlsplit(xlsx).query) == {k: [v] for k, v in search.items()}
    # The button's link works and gives the export of that search.
    assert client_for("admin").get(xlsx).status_code == 200


@pytest.mark.parametrize("role", ["reseller_a", "staff_a", "staff_server"])
def test_other_roles_see_export_buttons_on_the_lists_they_may_export(client_for, world, role):
    for identifier in ("extensions", "organizations"):
        html = client_for(role).get(reverse(PAGES[identifier])).content.decode()
        assert f"/exports/{identifier}.csv" in html


@pytest.mark.parametrize("identifier", EXPORTS)
def test_file_names_say_what_and_when(client_for, world, identifier):
    response = export(client_for("admin"), identifier, "xlsx")

    disposition = response["Content-Disposition"]
    stem = {"extensions": "callback-extensions", "audit": "audit-log"}.get(
        identifier, identifier.replace("_", "-")
    )
    assert disposition.startswith(f'attachment; filename="{stem}-')
    assert disposition.endswith('.xlsx"')
