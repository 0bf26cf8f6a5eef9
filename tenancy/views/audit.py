"""The audit log page (administrators only): browse, search by actor, action, object, dates.

The log grows without end (a million events and more), so the page never counts every row
nor skips rows with OFFSET (issue 21): it is paged by key, on (created_at, id), the order
the index `audit_created_id` holds. Next and Previous carry the key of the row they start
after (`after=`) or before (`before=`); First and Last read one end of the index; each page
costs the same wherever it is. The events are counted up to COUNT_CAP only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import render
from django.urls import path

from tenancy import scoping, selectors
from tenancy.filters.tenancy import AuditFilter
from tenancy.models import AuditEvent
from tenancy.tables.tenancy import AuditTable
from tenancy.views.tenancy import PER_PAGE

COUNT_CAP = 10_000
# The page's own paging parameters: dropped from every other link (search, export).
PAGING_PARAMS = ("after", "before", "last", "page")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def cursor_of(event: AuditEvent) -> str:
    """An event's key in a URL: microseconds since 1970 (exact, no float) and id."""
    delta = event.created_at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}_{event.pk}"


def parse_cursor(text: str | None) -> tuple[datetime.datetime, int] | None:
    try:
        micros, pk = (int(part) for part in (text or "").split("_"))
        return _EPOCH + datetime.timedelta(microseconds=micros), pk
    except (ValueError, OverflowError):
        return None


def _older(cursor) -> Q:
    when, pk = cursor
    # created_at <= when bounds the index scan; the OR breaks ties on the id.
    return Q(created_at__lte=when) & (Q(created_at__lt=when) | Q(pk__lt=pk))


def _newer(cursor) -> Q:
    when, pk = cursor
    return Q(created_at__gte=when) & (Q(created_at__gt=when) | Q(pk__gt=pk))


NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")


@dataclass(frozen=True)
class KeysetPage:
    records: list[AuditEvent]
    has_previous: bool
    has_next: bool
    is_first: bool
    is_last: bool


def keyset_page(rows, params, *, newest_first: bool = True) -> KeysetPage:
    """PER_PAGE events in the list's order from the position the parameters name: `after`
    (the next page), `before` (the previous page), `last` (the other end), else the first."""
    if newest_first:
        forward, backward = NEWEST_FIRST, OLDEST_FIRST
    else:
        forward, backward = OLDEST_FIRST, NEWEST_FIRST
    beyond, behind = (_older, _newer) if newest_first else (_newer, _older)
    after, before = parse_cursor(params.get("after")), parse_cursor(params.get("before"))
    if params.get("last"):
        found = list(rows.order_by(*backward)[: PER_PAGE + 1])
        records = found[:PER_PAGE][::-1]
        return KeysetPage(records, len(found) > PER_PAGE, False, len(found) <= PER_PAGE, True)
    if before is not None:
        found = list(rows.filter(behind(before)).order_by(*backward)[: PER_PAGE + 1])
        more = len(found) > PER_PAGE
        return KeysetPage(found[:PER_PAGE][::-1], more, True, not more, False)
    if after is not None:
        found = list(rows.filter(beyond(after)).order_by(*forward)[: PER_PAGE + 1])
        more = len(found) > PER_PAGE
        return KeysetPage(found[:PER_PAGE], True, more, False, not more)
    found = list(rows.order_by(*forward)[: PER_PAGE + 1])
    more = len(found) > PER_PAGE
    return KeysetPage(found[:PER_PAGE], False, more, True, not more)


def _link(params: QueryDict, **paging) -> str:
    query = params.copy()
    for name in PAGING_PARAMS:
        query.pop(name, None)
    for name, value in paging.items():
        query[name] = value
    return "?" + query.urlencode()


def audit_list(request):
    scoping.require_admin(request.user)
    filterset = AuditFilter(
        request.GET or None, queryset=selectors.audit_list(request.user), request=request
    )
    rows = filterset.qs
    # The order: newest first, or oldest first with sort=created_at (the export's key too).
    newest_first = request.GET.get("sort") != "created_at"
    page = keyset_page(rows, request.GET, newest_first=newest_first)
    # Bounded: an index-only scan of at most COUNT_CAP + 1 keys, however long the log.
    counted = rows.order_by()[: COUNT_CAP + 1].count()
    table = AuditTable(page.records, orderable=False)
    records = page.records
    return render(
        request,
        "tenancy/audit_list.html",
        {
            "filter": filterset,
            "table": table,
            "page": page,
            "count_text": (
                f"More than {COUNT_CAP:,} events"
                if counted > COUNT_CAP
                else f"{counted:,} event{'' if counted == 1 else 's'}"
            ),
            "newest_first": newest_first,
            "other_order_href": _link(
                request.GET, sort="-created_at" if not newest_first else "created_at"
            ),  # fmt: skip
            "first_href": _link(request.GET),
            "last_href": _link(request.GET, last="1"),
            "previous_href": _link(request.GET, before=cursor_of(records[0])) if records else "",
            "next_href": _link(request.GET, after=cursor_of(records[-1])) if records else "",
        },
    )


urlpatterns = [
    path("audit/", audit_list, name="audit_list"),
]
