"""The audit log page (administrators only): browse, search by actor, action, object, dates.

The log grows without end (a million events and more), so the page never counts every row
nor skips rows with OFFSET (issue 21): it is paged by key, on (created_at, id), the order
the index `audit_created_id` holds. Next and Previous carry the key of the row they start
after (`after=`) or before (`before=`); First and Last read one end of the index; each page
costs the same wherever it is. The events are counted up to COUNT_CAP only.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from panel.paging import keyset_page
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


def audit_page(rows, params, *, newest_first: bool = True):
    """PER_PAGE events in the list's order from the position the parameters name: `after`
    (the next page), `before` (the previous page), `last` (the other end), else the first."""
    return keyset_page(
        rows,
        forward=NEWEST_FIRST if newest_first else OLDEST_FIRST,
        backward=OLDEST_FIRST if newest_first else NEWEST_FIRST,
        beyond=_older if newest_first else _newer,
        behind=_newer if newest_first else _older,
        after=parse_cursor(params.get("after")),
        before=parse_cursor(params.get("before")),
        last=bool(params.get("last")),
        per_page=PER_PAGE,
    )


def _link(params: QueryDict, **paging) -> str:
    query = params.copy()
    for name in PAGING_PARAMS:
        query.pop(name, None)
    for name, value in paging.items():
        query[name] = value
    return "?" + query.urlencode()


@require_safe
def audit_list(request):
    scoping.require_admin(request.user)
    filterset = AuditFilter(
        request.GET or None, queryset=selectors.audit_list(request.user), request=request
    )
    rows = filterset.qs
    # The order: newest first, or oldest first with sort=created_at (the export's key too).
    newest_first = request.GET.get("sort") != "created_at"
    page = audit_page(rows, request.GET, newest_first=newest_first)
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
