"""The Authorized CallerIDs page stays fast on a large extension (issue 12): rows rendered
without django-tables2, escaped; pages without counting every row; deep pages picked on
their ids first. What the page shows is tested in test_pages_list.py."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.views.lists import PER_PAGE
from database.tables import table
from panel.paging import DEFERRED_JOIN_OFFSET
from tests.callerids.pages_support import add, bulk_rows

pytestmark = pytest.mark.django_db


def url(extension, query=""):
    return reverse("callerids:list", args=[extension.pk]) + (f"?{query}" if query else "")


def numbers(html: str) -> list[str]:
    return re.findall(r'aria-label="Cost report of ([^"]+)"', html)


def pagination(html: str) -> list[str]:
    nav = html.split('class="pagination', 1)[1].split("</ul>", 1)[0]
    return [
        re.sub(r"<[^>]+>|&laquo;|&raquo;", "", "<li" + item).strip()
        for item in nav.split("<li")[1:]
    ]


def test_every_value_in_a_row_is_escaped(client_for, extension_a):
    # Numbers are validated by the services; written straight to the table here.
    AuthorizedCallerID.objects.create(
        extension=extension_a,
        number='<b>"1&2',
        status=CallerIDStatus.DISABLED,
        status_reason="<i>why</i>",
        available=1,
        total=1,
    )
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert "<b>" not in html and "<i>" not in html
    assert 'aria-label="Select &lt;b&gt;&quot;1&amp;2"' in html
    assert "Disabled (&lt;i&gt;why&lt;/i&gt;)" in html


def test_a_large_search_is_counted_only_a_few_pages_ahead(client_for, extension_a):
    bulk_rows(extension_a, 12 * PER_PAGE)
    with CaptureQueriesContext(connection) as queries:
        html = client_for("reseller_a").get(url(extension_a, "status=disabled")).content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and f"LIMIT {10 * PER_PAGE + 1}" in counts[0]
    # Ten pages known, more after them: no last page number, but a way on.
    assert pagination(html) == [*map(str, range(1, 11)), "...", "next"]


def test_a_small_search_shows_its_exact_pages(client_for, extension_a):
    bulk_rows(extension_a, 2 * PER_PAGE + 1)
    html = client_for("reseller_a").get(url(extension_a, "page=2")).content.decode()
    assert pagination(html) == ["previous", "1", "2", "3", "next"]
    assert len(numbers(html)) == PER_PAGE


def test_the_pages_around_a_deep_page_are_offered(client_for, extension_a):
    bulk_rows(extension_a, 40 * PER_PAGE)
    html = client_for("reseller_a").get(url(extension_a, "page=20")).content.decode()
    assert pagination(html) == ["previous", "1", "...", *map(str, range(17, 25)), "...", "next"]
    last = client_for("reseller_a").get(url(extension_a, "page=40")).content.decode()
    assert pagination(last)[-2:] == ["39", "40"]


@pytest.mark.parametrize("sort", ["-created", "number", "-available", "total"])
def test_a_deep_page_has_the_same_rows_as_an_offset(client_for, extension_a, sort):
    from callerids.filters import SORTS

    bulk_rows(extension_a, DEFERRED_JOIN_OFFSET + 3 * PER_PAGE)
    page = DEFERRED_JOIN_OFFSET // PER_PAGE + 2
    offset = (page - 1) * PER_PAGE
    expected = list(
        AuthorizedCallerID.objects.filter(extension=extension_a)
        .order_by(*SORTS[sort])
        .values_list("number", flat=True)[offset : offset + PER_PAGE]
    )
    html = client_for("reseller_a").get(url(extension_a, f"sort={sort}&page={page}")).content
    assert numbers(html.decode()) == expected


def test_a_deep_page_takes_as_many_queries_as_the_first(client_for, extension_a):
    bulk_rows(extension_a, DEFERRED_JOIN_OFFSET + 2 * PER_PAGE)
    client = client_for("admin")
    client.get(url(extension_a))  # warm the license and preferences rows

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(extension_a, query)).status_code == 200
        return len(captured)

    deep = DEFERRED_JOIN_OFFSET // PER_PAGE + 2
    assert queries(f"page={deep}") == queries("page=1")


@pytest.mark.parametrize("page", ["99", "1" + "0" * 30, "-3", "x"])
def test_any_page_number_gives_a_page(client_for, extension_a, page):
    bulk_rows(extension_a, PER_PAGE + 5)
    response = client_for("reseller_a").get(url(extension_a, f"page={page}"))
    assert response.status_code == 200
    expected = PER_PAGE if page in ("-3", "x") else 5
    assert len(numbers(response.content.decode())) == expected


def test_an_empty_search_says_so(client_for, extension_a):
    add(extension_a, "1234")
    html = client_for("staff_a").get(url(extension_a, "q=999")).content.decode()
    assert '<td colspan="8">No authorized CallerIDs match.</td>' in html
    assert 'class="pagination' not in html


def test_the_sort_links_keep_the_search_and_turn_the_order_around(client_for, extension_a):
    add(extension_a, "1234")
    html = client_for("reseller_a").get(url(extension_a, "q=12&sort=number")).content.decode()
    thead = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    assert '<th class="asc orderable" scope="col"><a href="?q=12&amp;sort=-number">' in thead
    assert '<th class="num orderable" scope="col"><a href="?q=12&amp;sort=total">' in thead
    html = client_for("reseller_a").get(url(extension_a, "sort=-available")).content.decode()
    assert '<th class="desc num orderable" scope="col"><a href="?sort=available">' in html


def test_an_extension_without_callerids_says_none_yet(client_for, extension_a):
    html = client_for("reseller_a").get(url(extension_a, "")).content.decode()
    assert "No authorized CallerIDs yet." in html
    assert "No authorized CallerIDs match." not in html


# --- substring search served by the trigram index on PostgreSQL (issue 21) ---


def test_the_search_finds_a_part_of_the_number_in_any_position(client_for, extension_a):
    add(extension_a, "+40721000123", "0721555999", "4031123456", "5559999")
    client = client_for("reseller_a")

    def found(q):
        return sorted(numbers(client.get(url(extension_a, f"q={q}")).content.decode()))

    assert found("%2B4072") == ["+40721000123"]  # the start, with its +
    assert found("0721") == ["+40721000123", "0721555999"]  # start and middle
    assert found("123") == ["+40721000123", "4031123456"]  # middle and end
    assert found("(031)-12") == ["4031123456"]  # punctuation ignored
    assert found("99") == ["0721555999", "5559999"]  # shorter than a trigram: still found
    assert found("%25") == [] and found("_") == []  # LIKE wildcards are searched as text
    assert found("8888") == []


def test_the_export_searches_with_the_same_rule(client_for, extension_a):
    add(extension_a, "+40721000123", "0721555999", "4031123456")
    response = client_for("reseller_a").get(
        reverse("exports:download", args=["callerids", "csv"]),
        {"extension": extension_a.pk, "q": "0721"},
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert sorted(line.split(",")[0] for line in body.splitlines()[1:]) == [
        "+40721000123",
        "0721555999",
    ]


def _trigram_index():
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name = %s",
                ["callerid_number_trgm"],
            )
            return cursor.fetchone()
        cursor.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            ["callerid_number_trgm"],
        )
        return cursor.fetchone()


@pytest.mark.postgres
def test_the_search_sql_is_served_by_the_trigram_index(extension_a):
    valid, definition = _trigram_index()
    assert valid and "gin (number gin_trgm_ops)" in definition
    from callerids.filters import CallerIDFilter

    bulk_rows(extension_a, 20000, start=5_550_000)
    queryset = CallerIDFilter(
        {"q": "555-123"}, queryset=AuthorizedCallerID.objects.filter(extension=extension_a)
    ).qs
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # New rows wait in the GIN index's pending list until a vacuum: merge them first.
        cursor.execute("SELECT gin_clean_pending_list('callerid_number_trgm')")
        cursor.execute(f"ANALYZE {table(AuthorizedCallerID)}")
        # 20,000 rows are still cheap to scan; without scans the planner must pick between
        # the extension's indexes and the trigram one, and it picks the trigram one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on callerid_number_trgm" in plan, plan
    expected = {str(5_550_000 + i) for i in range(20000)}
    assert {c.number for c in queryset} == {n for n in expected if "555123" in n}


def test_sqlite_has_no_trigram_index():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: on PostgreSQL the migration creates the index")
    assert _trigram_index() is None
