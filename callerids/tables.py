"""The table of the Authorized CallerIDs page (SPEC §4).

Columns in the spec's order: checkbox, S, C, Callback Number, PIN, Total Credit,
Available Credit, Created, B. Every row belongs to the page's one extension, so the table
takes it (and the links' bases) once: rendering a row never queries the database.

The rows are rendered here, in Python, not by django-tables2 (issue 12): on a page of 50
rows django-tables2 spent most of the request inspecting the signature of every cell's
render method and reversing every row's links. Each link is reversed once per request
with a placeholder pk, and each row is one string template filled with escaped values.
The markup is the one the django-tables2 bootstrap5 template gave (same columns, classes,
sort links, accessible names), so the page looks and behaves as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from callerids.filters import SORTS
from callerids.models import LOCKED_REASON, AuthorizedCallerID, CallerIDStatus, status_label
from panel.paging import querystring_with
from values.money import format_amount

EMPTY_TEXT = "No authorized CallerIDs match."
EMPTY_LIST_TEXT = "No authorized CallerIDs yet."
SEARCH_PARAMS = ("q", "status", "credit")
SORT_PARAM = "sort"  # the filter's parameter: page, search and export agree

_ICONS = {
    key: f'<span class="status-icon {css}" aria-hidden="true">{glyph}</span>'
    for key, css, glyph in (
        (CallerIDStatus.ENABLED, "text-success", "●"),
        (CallerIDStatus.DISABLED, "text-secondary", "○"),
        (CallerIDStatus.REMOVED, "text-secondary", "×"),
        (LOCKED_REASON, "text-danger", "🔒"),
    )
}
_SELECT_ALL = (
    '<input type="checkbox" class="form-check-input" data-select-all '
    'aria-label="Select all on this page">'
)
_PK = 2147483647  # a placeholder pk for reversing a link once; replaced by each row's pk


def status_text(callerid: AuthorizedCallerID) -> str:
    """Enabled / Disabled / Removed, with the reason when the system disabled it.

    A PIN lock names the limit stored when it happened, not the extension's setting today.
    """
    if callerid.status == CallerIDStatus.DISABLED and callerid.status_reason == LOCKED_REASON:
        if callerid.locked_after_pins is None:
            return "Locked after too many wrong PINs"
        return f"Locked after {callerid.locked_after_pins} wrong PINs"
    return status_label(callerid.status, callerid.status_reason)


def format_created(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _percent_safe(html: str) -> str:
    """Escaped text put into a %-format row template as is."""
    return html.replace("%", "%%")


def _link_pattern(name: str) -> str:
    """A named URL with one pk argument, escaped, as a %-format string
    ('/callerids/%(pk)d/edit/'): reversed once a request, filled with each row's pk."""
    url = reverse(name, args=[_PK])
    return _percent_safe(escape(url)).replace(str(_PK), "%(pk)d", 1)


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # escaped HTML
    sort: str | None = None  # the filter's sort key, None = not sortable
    css: str = ""  # the th and td class


COLUMNS = (
    Column("selection", _SELECT_ALL, css="text-center"),
    Column("s", '<abbr title="Status">S</abbr>', css="text-center"),
    Column("c", '<abbr title="Cost report">C</abbr>', css="text-center"),
    Column("number", "Callback Number", sort="number"),
    Column("pin", "PIN"),
    Column("total", "Total Credit", sort="total", css="num"),
    Column("available", "Available Credit", sort="available", css="num"),
    Column("created", "Created", sort="created"),
    Column("b", '<abbr title="Balance: credit management">B</abbr>', css="text-center"),
)
assert all(f"-{c.sort}" in SORTS for c in COLUMNS if c.sort)


@dataclass(frozen=True)
class Header:
    """One th: its class, its title and, when sortable, the link that sorts by it."""

    css: str
    html: str
    href: str | None


class CallerIDTable:
    """The page's table: headers with sort links, rows as HTML.

    `rows` are the page's CallerIDs (already searched, sorted and sliced); `params` the
    request's GET (sort and page links keep the rest of the search); `sort` the valid sort
    key in use, None when the default order applies.
    """

    def __init__(
        self,
        rows,
        *,
        extension,
        can_write: bool,
        selectable: bool,
        decimals: int,
        params,
        sort: str | None,
    ):
        self.rows = rows
        self.extension = extension
        self.can_write = can_write
        self.selectable = selectable
        self.decimals = decimals
        self.params = params
        self.sort = sort
        self.columns = [c for c in COLUMNS if selectable or c.name != "selection"]

    # The links of the page: params kept, one replaced (django-tables2's querystring_replace).

    def querystring(self, name: str, value) -> str:
        return querystring_with(self.params, name, value)

    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            classes = {column.css} if column.css else set()
            href = None
            if column.sort:
                classes.add("orderable")
                if self.sort in (column.sort, f"-{column.sort}"):
                    descending = self.sort.startswith("-")
                    classes.add("desc" if descending else "asc")
                    following = column.sort if descending else f"-{column.sort}"
                else:
                    following = column.sort
                href = self.querystring(SORT_PARAM, following)
            headers.append(Header(" ".join(sorted(classes)), column.header, href))
        return headers

    # The rows.

    def render_rows(self) -> SafeString:
        """Every row's <tr>, or the empty text; all values escaped here."""
        if not self.rows:
            searched = any(self.params.get(name) for name in SEARCH_PARAMS)
            text = EMPTY_TEXT if searched else EMPTY_LIST_TEXT
            return mark_safe(f'<tr><td colspan="{len(self.columns)}">{text}</td></tr>')
        cost_report = reverse("credit:cost_report", args=[self.extension.pk])
        c_cell = (
            f'<a href="{_percent_safe(escape(cost_report))}?callerid=%(pk)d" '
            'title="Cost report of %(number)s" aria-label="Cost report of %(number)s">C</a>'
        )
        b_cell = (
            f'<a href="{_link_pattern("credit:callerid_credit")}" title="Credit of %(number)s" '
            'aria-label="Credit of %(number)s">B</a>'
        )
        # Two templates: rows that can be changed and rows that cannot (read-only roles,
        # removed CallerIDs). %(name)s values are escaped before they are filled in.
        edit = _link_pattern("callerids:edit")
        toggle = _link_pattern("callerids:toggle")
        status = (
            '<span title="%(status_text)s" data-status="%(status)s">%(icon)s'
            '<span class="visually-hidden">%(status_text)s</span></span>'
        )
        selection = (
            '<td class="text-center"><input type="checkbox" class="form-check-input" '
            'name="ids" value="%(pk)d" aria-label="Select %(number)s"></td>'
        )
        tail = (
            f'<td class="text-center">{c_cell}</td>'
            "<td >%(number_cell)s</td><td >%(pin)s</td>"
            '<td class="num">%(total)s</td><td class="num">%(available)s</td>'
            f'<td >%(created)s</td><td class="text-center">{b_cell}</td></tr>'
        )
        writable_row = (
            '<tr data-callerid="%(pk)d" class="%(row_class)s">'
            + (selection if self.selectable else "")
            + f'<td class="text-center">{status} <button type="submit" class="btn '
            f'btn-outline-secondary btn-sm py-0 px-1 ms-1" formaction="{toggle}" '
            'formmethod="post" aria-label="%(verb)s %(number)s" title="%(verb)s %(number)s">'
            "%(verb)s</button></td>" + tail
        )
        read_only_row = (
            '<tr data-callerid="%(pk)d" class="%(row_class)s">'
            + ('<td class="text-center"></td>' if self.selectable else "")
            + f'<td class="text-center">{status}</td>'
            + tail
        )
        edit_link = f'<a href="{edit}" title="Edit %(number)s">%(number)s</a>'
        decimals = self.decimals
        out = []
        for index, record in enumerate(self.rows):
            removed = record.status == CallerIDStatus.REMOVED
            writable = self.can_write and not removed
            number = escape(record.number)
            values = {
                "pk": int(record.pk),
                "number": number,
                "row_class": ("text-body-secondary " if removed else "")
                + ("odd" if index % 2 else "even"),
                "status": escape(record.status),
                "status_text": escape(status_text(record)),
                "icon": _ICONS[
                    LOCKED_REASON if record.status_reason == LOCKED_REASON else record.status
                ],
                "verb": "Disable" if record.status == CallerIDStatus.ENABLED else "Enable",
                "pin": "Yes" if record.pin_hash else "No",
                "total": escape(format_amount(record.total, decimals, unlimited=record.unlimited)),
                "available": escape(
                    format_amount(record.available, decimals, unlimited=record.unlimited)
                ),
                "created": escape(format_created(record.created_at)),
            }
            if self.can_write:
                values["number_cell"] = edit_link % values
            else:
                values["number_cell"] = number
            out.append((writable_row if writable else read_only_row) % values)
        return mark_safe("".join(out))
