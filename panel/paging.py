"""How every list page of the panel is sorted and paged: one way, built for a million rows.

- The sort comes from the URL: `?sort=` names a column of the page's django-tables2 table
  (its `order_by` says what that sorts by) or, on the CallerIDs list, a key of its filter.
- The page comes from `?page=`; the page size never comes from the URL. A page number
  below 1 or not a number shows page 1; a page past the end shows the last page.
- `paginate()` reads one page in one query without counting every row (issue 12): the
  rows are counted only a few pages past this one (COUNT over a LIMIT, a subquery of the
  page's query), so `Page.num_pages` is exact when `Page.more` is False and a lower bound
  when it is True. Deep pages are picked on their ids first (a deferred join), so page
  1000 costs a few times page 1, not a thousand times.
- `configure_list()` does both for a django-tables2 table; `panel_table.html` shows the
  page links of `table.pagination`. A page that renders its own rows (the CallerIDs list)
  calls `paginate()` and `pagination()` and includes `includes/pagination.html` itself.
- The audit log, which only grows, pages by key instead (`keyset_page()`): First,
  Previous, Next and Last cost the same wherever they land.

Tests: tests/callback/test_list_paging.py, tests/callerids/test_list_speed.py (query
counts, deep pages), tests/callback/test_audit_page.py (the keyset).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import IntegerField, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.http import urlencode
from django_tables2 import RequestConfig, Table
from django_tables2.rows import BoundRows

PAGE_RANGE = 10  # page numbers shown at once (django-tables2's default)
PAGES_AHEAD = 5  # pages counted past the current one (at least PAGE_RANGE from page 1)
DEFERRED_JOIN_OFFSET = 1000  # rows skipped from which a page is picked on its ids first
MAX_PAGE = 10_000_000  # a larger ?page= shows the last page, like any page past the end


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number and how many pages are known to exist."""

    object_list: list
    number: int
    num_pages: int
    more: bool  # more pages follow num_pages (they were not counted)
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more or self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        return self.more or self.num_pages > 1


class _CappedCount(Subquery):
    """How many rows a sliced query gives (so at most its LIMIT), as a scalar subquery."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()


def _page_rows(rows: QuerySet, page_ids: QuerySet) -> QuerySet:
    """The rows whose ids the page picked, in the list's order, read by primary key only
    (the search is not run again) unless the list carries annotations that need it."""
    query = rows.query
    if query.annotations or query.distinct or query.combinator:
        return rows.filter(pk__in=page_ids)
    picked = rows.model._default_manager.filter(pk__in=page_ids)
    picked.query.select_related = query.select_related
    picked.query.deferred_loading = query.deferred_loading
    picked._prefetch_related_lookups = rows._prefetch_related_lookups
    return picked.order_by(*query.order_by) if query.order_by else picked


def _fetch_page(rows: QuerySet, number: int, per_page: int, cap: int) -> list:
    """One query: the page's rows, each annotated with `rows_counted` (the rows of the
    search counted up to cap + 1, a subquery run once).

    Deep pages are picked on the ids alone (a deferred join): the offset walks an index
    of the list's orders (index-only) and only the page's rows are read from the table.
    Shallow pages skip it: planning the join costs more than the short offset it saves."""
    offset = (number - 1) * per_page
    counted = _CappedCount(rows.order_by().values("pk")[: cap + 1])
    if offset < DEFERRED_JOIN_OFFSET:
        return list(rows.annotate(rows_counted=counted)[offset : offset + per_page])
    page_ids = rows.values("pk")[offset : offset + per_page]
    return list(_page_rows(rows, page_ids).annotate(rows_counted=counted))


def page_number(text) -> int:
    """?page= as a page number: 1 for garbage or below 1, at most MAX_PAGE."""
    try:
        return min(max(int(text or 1), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def paginate(rows: QuerySet, page, *, per_page: int) -> Page:
    """`per_page` rows of a sorted queryset from the page named by `page` (?page= as
    given): the page past the end shows the last one; one query, two past the end."""
    number = page_number(page)
    cap = max(number + PAGES_AHEAD, PAGE_RANGE) * per_page
    records = _fetch_page(rows, number, per_page, cap)
    if records:
        counted = records[0].rows_counted
    elif number == 1:
        counted = 0
    else:  # past the end: count (exactly, the cap is past it too), show the last page
        counted = rows.order_by()[: cap + 1].count()
        number = max(1, -(-counted // per_page))
        records = _fetch_page(rows, number, per_page, cap) if counted else []
    more = counted > cap
    num_pages = max(1, -(-min(counted, cap) // per_page))
    return Page(records, number, num_pages, more, per_page)


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: the "..." gap
    href: str | None
    active: bool = False


@dataclass(frozen=True)
class Pagination:
    """What the page links show: previous, the numbers around this page, next."""

    page: Page
    links: list[PageLink] = field(default_factory=list)
    previous_href: str = ""
    next_href: str = ""


def querystring_with(params, name: str, value) -> str:
    """The request's query string with one parameter replaced, escaped for HTML
    (django-tables2's querystring_replace)."""
    replaced = dict(params.lists())
    replaced[name] = value
    return escape("?" + urlencode(replaced, doseq=True))


def page_numbers(page: Page) -> list[int | None]:
    """At most PAGE_RANGE numbers around the current page, the first and the last (when
    known) always shown, None for the gaps and when more pages follow."""
    known, number = page.num_pages, page.number
    if known <= PAGE_RANGE and not page.more:
        return list(range(1, known + 1))
    start = max(number - PAGE_RANGE // 2, 1)
    end = start + PAGE_RANGE
    if end > known + 1:
        start, end = max(known - PAGE_RANGE + 1, 1), known + 1
    numbers: list[int | None] = list(range(start, end))
    if 1 not in numbers:
        numbers = [1, None, *numbers[2:]]
    if page.more:
        numbers.append(None)
    elif known not in numbers:
        numbers = [*numbers[:-2], None, known]
    return numbers


def pagination(page: Page, params, *, field_name: str = "page") -> Pagination:
    """The links of includes/pagination.html (none when the list fits on one page)."""
    if not page.has_other_pages:
        return Pagination(page)

    def href(number: int) -> str:
        return querystring_with(params, field_name, number)

    return Pagination(
        page,
        [PageLink(n, None if n is None else href(n), n == page.number) for n in page_numbers(page)],
        href(page.previous_page_number),
        href(page.next_page_number),
    )


def configure_list(request, table: Table, *, per_page: int) -> Table:
    """Sort and page a django-tables2 table from the URL (the module's rules).

    django-tables2 also reads `per_page` from the URL: a negative one made a 500 and a huge
    one a page of every row; here only the sort is its to read."""
    RequestConfig(request, paginate=False).configure(table)  # the sort only
    page = paginate(table.data.data, request.GET.get(table.prefixed_page_field), per_page=per_page)
    table.page = Page(
        BoundRows(page.object_list, table=table), page.number, page.num_pages, page.more, per_page
    )
    table.pagination = pagination(page, request.GET, field_name=table.prefixed_page_field)
    return table


# Paging by key: the audit log (issue 21).


@dataclass(frozen=True)
class KeysetPage:
    records: list
    has_previous: bool
    has_next: bool
    is_first: bool
    is_last: bool


def keyset_page(
    rows: QuerySet,
    *,
    forward: tuple[str, ...],
    backward: tuple[str, ...],
    beyond: Callable[[object], Q] | None,
    behind: Callable[[object], Q] | None,
    after=None,
    before=None,
    last: bool = False,
    per_page: int,
) -> KeysetPage:
    """`per_page` rows in the `forward` order from a key: the rows `beyond(after)` (the
    next page), `behind(before)` (the previous page), the other end (`last`), else the
    first. Each reads at most per_page + 1 rows along an index of the order."""
    if last:
        found = list(rows.order_by(*backward)[: per_page + 1])
        more = len(found) > per_page
        return KeysetPage(found[:per_page][::-1], more, False, not more, True)
    if before is not None:
        found = list(rows.filter(behind(before)).order_by(*backward)[: per_page + 1])
        more = len(found) > per_page
        return KeysetPage(found[:per_page][::-1], more, True, not more, False)
    if after is not None:
        found = list(rows.filter(beyond(after)).order_by(*forward)[: per_page + 1])
        more = len(found) > per_page
        return KeysetPage(found[:per_page], True, more, False, not more)
    found = list(rows.order_by(*forward)[: per_page + 1])
    more = len(found) > per_page
    return KeysetPage(found[:per_page], False, more, True, not more)
