"""The Authorized CallerIDs page of one callback extension (SPEC §4): the list, its S toggle
and the bulk actions (Remove selected with a confirmation, Enable, Disable)."""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from callback.scope import get_extension_for_user
from callerids.filters import CallerIDFilter
from callerids.models import CallerIDStatus
from callerids.scope import callerids_for, get_callerid_for_user
from callerids.selectors import room_left
from callerids.services.callerids import (
    disable_callerid,
    disable_callerids,
    enable_callerid,
    enable_callerids,
    remove_callerids,
)
from callerids.tables import CallerIDTable
from panel.paging import paginate, pagination
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.preferences import get_preferences_cached
from values.errors import DomainError

PER_PAGE = 50
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


@require_safe
def callerid_list(request, pk):
    extension = get_extension_for_user(request.user, pk)
    can_write = scoping.can_write(request.user)
    # Display only (decimals, currency): a change reaches other workers within seconds.
    preferences = get_preferences_cached()
    # The extension is known: the rows need none of its joins.
    scoped = callerids_for(request.user).filter(extension=extension)
    filterset = CallerIDFilter(request.GET, queryset=scoped.select_related(None))
    rows = filterset.qs  # validates the search; searched and sorted
    search = filterset.form.cleaned_data
    # Removed CallerIDs are frozen: their list has nothing to select.
    selectable = can_write and search.get("status") != CallerIDStatus.REMOVED
    page = paginate(rows, request.GET.get("page"), per_page=PER_PAGE)
    table = CallerIDTable(
        page.object_list,
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
    import_url = reverse("callerids:import", args=[extension.pk]) if can_write else None
    return render(
        request,
        "callerids/callerid_list.html",
        {
            "extension": extension,
            "filter": filterset,
            "table": table,
            "headers": table.headers(),
            "rows_html": table.render_rows(),
            "pagination": pagination(page, request.GET),
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
    callerid = get_callerid_for_user(request.user, pk, write=True)
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
        callerids_for(request.user)
        .filter(extension=extension, pk__in=ids)
        .select_related(None)
        .order_by("number", "pk")
    )


@require_POST
def callerid_bulk(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
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
