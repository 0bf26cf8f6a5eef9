"""The Authorized CallerIDs page of one callback extension (SPEC §4): the list, its S toggle
and the bulk actions (Remove selected with a confirmation, Enable, Disable)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import IntegerField, Subquery
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_POST

from callback import scoping
from callback.audit import Actor
from callback.errors import DomainError
from callerids.filters import CallerIDFilter
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.selectors import room_left
from callerids.services.callerids import (
    disable_callerid,
    disable_callerids,
    enable_callerid,
    enable_callerids,
    remove_callerids,
)
from callerids.tables import PAGE_RANGE, CallerIDTable
from credit.selectors import get_preferences_cached

PER_PAGE = 50
PAGES_AHEAD = 5  # pages counted past the current one (at least PAGE_RANGE from page 1)
DEFERRED_JOIN_OFFSET = 1000  # rows skipped from which a page is picked on its ids first
MAX_PAGE = 10_000_000  # a larger ?page= shows the last page, like any page past the end
MAX_SELECTED = 1000
# The list's own parameters: the only ones carried back to it after a POST.
LIST_PARAMS = ("q", "status", "credit", "sort", "page")
BULK_ACTIONS = ("remove", "confirm_remove", "enable", "disable")


def _plural(count: int, word: str = "CallerID") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def list_url(extension, querystring: str = "") -> str:
    """The list's URL with its search kept (only the list's own parameters)."""
    params = QueryDict(querystring or "", mutable=True)
    kept = QueryDict(mutable=True)
    for name in LIST_PARAMS:
        if name in params:
            kept[name] = params[name]
    base = reverse("callerids:list", args=[extension.pk])
    return f"{base}?{kept.urlencode()}" if kept else base


def _add_link(room) -> tuple[bool, str]:
    """Whether the Add link works, and why not: the room the user sees, then the
    extension's reseller's share (which admins do not see in their server figures)."""
    if room.left > 0:
        return True, ""
    if room.server_wide and room.server_left > 0:
        return False, f"No license room left: the share of {room.reseller_name} is used up."
    return False, f"No license room left: {room.text}."


@dataclass(frozen=True)
class Page:
    """One page of the list without counting every row (issue 12).

    The rows are counted only up to a few pages past this one (COUNT over a LIMIT: a
    short index scan however large the extension): num_pages is exact when `more` is
    False; when `more` is True at least num_pages pages exist and more follow.
    """

    number: int
    num_pages: int
    more: bool

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
    def shown(self) -> bool:
        return self.more or self.num_pages > 1


class _CappedCount(Subquery):
    """How many rows a sliced query gives (so at most its LIMIT), as a scalar subquery."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()


def _fetch_page(rows, number: int, cap: int) -> list[AuthorizedCallerID]:
    """One query: the page's rows, each annotated with `rows_counted` (the rows of the
    search counted up to cap + 1, a subquery run once).

    Deep pages are picked on the ids alone (a deferred join): the offset walks an index
    of the list's orders (index-only) and only the page's rows are read from the table,
    so page 1000 costs a few times what page 1 does, not a thousand times. Shallow pages
    skip it: planning the join costs more than the short offset it saves."""
    offset = (number - 1) * PER_PAGE
    counted = _CappedCount(rows.order_by().values("pk")[: cap + 1])
    if offset < DEFERRED_JOIN_OFFSET:
        return list(rows.annotate(rows_counted=counted)[offset : offset + PER_PAGE])
    page_ids = rows.values("pk")[offset : offset + PER_PAGE]
    return list(
        AuthorizedCallerID.objects.filter(pk__in=page_ids)
        .annotate(rows_counted=counted)
        .order_by(*rows.query.order_by)
    )


def _paginate(rows, page: str | None) -> tuple[Page, list[AuthorizedCallerID]]:
    """PER_PAGE rows a page; a page past the end shows the last one."""
    try:
        number = min(max(int(page or 1), 1), MAX_PAGE)
    except ValueError:
        number = 1
    cap = max(number + PAGES_AHEAD, PAGE_RANGE) * PER_PAGE
    records = _fetch_page(rows, number, cap)
    if records:
        counted = records[0].rows_counted
    elif number == 1:
        counted = 0
    else:  # past the end: count (exactly, the cap is past it too), show the last page
        counted = rows.order_by()[: cap + 1].count()
        number = max(1, -(-counted // PER_PAGE))
        records = _fetch_page(rows, number, cap) if counted else []
    more = counted > cap
    num_pages = max(1, -(-min(counted, cap) // PER_PAGE))
    return Page(number, num_pages, more), records


@require_GET
def callerid_list(request, pk):
    extension = scoping.get_extension_for_user(request.user, pk)
    can_write = scoping.can_write(request.user)
    # Display only (decimals, currency): a change reaches other workers within seconds.
    preferences = get_preferences_cached()
    # The extension is known: the rows need none of its joins.
    scoped = scoping.callerids_for(request.user).filter(extension=extension)
    filterset = CallerIDFilter(request.GET, queryset=scoped.select_related(None))
    rows = filterset.qs  # validates the search; searched and sorted
    search = filterset.form.cleaned_data
    # Removed CallerIDs are frozen: their list has nothing to select.
    selectable = can_write and search.get("status") != CallerIDStatus.REMOVED
    page, records = _paginate(rows, request.GET.get("page"))
    table = CallerIDTable(
        records,
        extension=extension,
        can_write=can_write,
        selectable=selectable,
        decimals=preferences.decimals,
        params=request.GET,
        sort=search.get("sort") or None,
    )
    # With the extension's reseller (loaded with it): the Add link also knows its share.
    room = room_left(request.user, reseller=extension.organization.reseller)
    add_enabled, add_refusal = _add_link(room) if can_write else (False, "")
    try:
        import_url = reverse("callerids:import", args=[extension.pk]) if can_write else None
    except NoReverseMatch:
        import_url = None
    return render(
        request,
        "callerids/callerid_list.html",
        {
            "extension": extension,
            "filter": filterset,
            "table": table,
            "headers": table.headers(),
            "rows_html": table.render_rows(),
            "page": page,
            "page_links": table.page_links(page) if page.shown else [],
            "previous_href": table.querystring("page", page.previous_page_number),
            "next_href": table.querystring("page", page.next_page_number),
            "room": room,
            "can_write": can_write,
            "selectable": selectable,
            "add_enabled": add_enabled,
            "add_refusal": add_refusal,
            "import_url": import_url,
            "currency": preferences.currency,
            "querystring": request.GET.urlencode(),
        },
    )


@require_POST
def callerid_toggle(request, pk):
    """The S button: enable a disabled (or PIN-locked) CallerID, disable an enabled one."""
    callerid = scoping.get_callerid_for_user(request.user, pk, write=True)
    actor = Actor.from_request(request)
    try:
        if callerid.status == CallerIDStatus.ENABLED:
            disable_callerid(actor=actor, callerid=callerid)
            messages.success(request, f"{callerid.number} disabled.")
        else:
            enable_callerid(actor=actor, callerid=callerid)
            messages.success(request, f"{callerid.number} enabled.")
    except DomainError as exc:
        messages.error(request, f"{callerid.number}: {' '.join(exc.messages)}")
    return redirect(list_url(callerid.extension, request.POST.get("querystring", "")))


def _selected(request, extension):
    """The posted ids that are this extension's CallerIDs in the user's scope, in number
    order; anything else (another reseller's, another extension's, garbage) is dropped."""
    ids = [raw for raw in request.POST.getlist("ids") if raw.isdigit()][: MAX_SELECTED + 1]
    return (
        scoping.callerids_for(request.user)
        .filter(extension=extension, pk__in=ids)
        .select_related(None)
        .order_by("number", "pk")
    )


@require_POST
def callerid_bulk(request, pk):
    extension = scoping.get_extension_for_user(request.user, pk, write=True)
    action = request.POST.get("action")
    querystring = request.POST.get("querystring", "")
    back = list_url(extension, querystring)
    selected = list(_selected(request, extension))
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose Remove selected, Enable or Disable.")
        return redirect(back)
    if not selected:
        messages.error(request, "Select at least one CallerID first.")
        return redirect(back)
    if len(selected) > MAX_SELECTED:
        messages.error(request, f"Select at most {MAX_SELECTED} CallerIDs at once.")
        return redirect(back)
    live = [c for c in selected if not c.is_removed]
    if action == "remove":
        # The confirmation step: nothing changes until "Confirm removal" is posted.
        return render(
            request,
            "callerids/callerid_confirm_remove.html",
            {"extension": extension, "selected": live, "querystring": querystring, "back": back},
        )
    actor = Actor.from_request(request)
    ids = [c.pk for c in live]
    try:
        if action == "confirm_remove":
            result = remove_callerids(actor=actor, ids=ids)
            messages.success(request, f"Removed {_plural(len(result.changed))}.")
        elif action == "enable":
            result = enable_callerids(actor=actor, ids=ids)
            messages.success(request, _status_message("Enabled", "enabled", result))
        else:
            result = disable_callerids(actor=actor, ids=ids)
            messages.success(request, _status_message("Disabled", "disabled", result))
    except DomainError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


def _status_message(verb: str, state: str, result) -> str:
    text = f"{verb} {_plural(len(result.changed))}."
    if result.unchanged:
        text += f" {len(result.unchanged)} {'was' if len(result.unchanged) == 1 else 'were'}"
        text += f" already {state}."
    return text


urlpatterns = [
    path("extensions/<int:pk>/callerids/", callerid_list, name="list"),
    path("extensions/<int:pk>/callerids/bulk/", callerid_bulk, name="bulk"),
    path("callerids/<int:pk>/toggle/", callerid_toggle, name="toggle"),
]
