"""The table of the Authorized CallerIDs page (SPEC §4), django-tables2.

Columns in the spec's order: checkbox, S, C, Callback Number, PIN, Total Credit,
Available Credit, Created, B. Every row belongs to the page's one extension, so the table
takes it (and the links' bases) once: rendering a row never queries the database.
"""

from __future__ import annotations

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from callerids.filters import SORTS
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.money import format_amount

LOCKED_REASON = "locked"
_RIGHT = {"td": {"class": "num"}, "th": {"class": "num"}}
_NARROW = {"td": {"class": "text-center"}, "th": {"class": "text-center"}}


_ICONS = {
    key: mark_safe(f'<span class="status-icon {css}" aria-hidden="true">{glyph}</span>')
    for key, css, glyph in (
        (CallerIDStatus.ENABLED, "text-success", "●"),
        (CallerIDStatus.DISABLED, "text-secondary", "○"),
        (CallerIDStatus.REMOVED, "text-secondary", "×"),
        ("locked", "text-danger", "🔒"),
    )
}


def status_text(callerid: AuthorizedCallerID, pin_lock_limit: int) -> str:
    """Enabled / Disabled / Removed, with the reason when the system disabled it."""
    if callerid.status == CallerIDStatus.DISABLED and callerid.status_reason:
        if callerid.status_reason == LOCKED_REASON:
            return f"Locked after {pin_lock_limit} wrong PINs"
        return f"Disabled ({callerid.status_reason})"
    return callerid.get_status_display()


def format_created(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _sorted(key: str):
    """table.order_<column>: the same ORDER BY the filter (and so the export) uses."""

    def order(table, queryset, is_descending):
        return queryset.order_by(*SORTS[f"-{key}" if is_descending else key]), True

    return order


class CallerIDTable(tables.Table):
    selection = tables.Column(
        empty_values=(),
        orderable=False,
        verbose_name=mark_safe(
            '<input type="checkbox" class="form-check-input" data-select-all '
            'aria-label="Select all on this page">'
        ),
        attrs={"td": {"class": "text-center"}, "th": {"class": "text-center"}},
    )
    s = tables.Column(empty_values=(), orderable=False, verbose_name="S", attrs=_NARROW)
    c = tables.Column(empty_values=(), orderable=False, verbose_name="C", attrs=_NARROW)
    number = tables.Column(verbose_name="Callback Number")
    pin = tables.Column(empty_values=(), orderable=False, verbose_name="PIN")
    total = tables.Column(empty_values=(), verbose_name="Total Credit", attrs=_RIGHT)
    available = tables.Column(empty_values=(), verbose_name="Available Credit", attrs=_RIGHT)
    created = tables.Column(accessor="created_at", verbose_name="Created")
    b = tables.Column(empty_values=(), orderable=False, verbose_name="B", attrs=_NARROW)

    order_number = _sorted("number")
    order_total = _sorted("total")
    order_available = _sorted("available")
    order_created = _sorted("created")

    class Meta:
        order_by_field = "sort"  # the filter's parameter: page, search and export agree
        attrs = {
            "class": "table table-sm table-hover table-nowrap align-middle",
            "aria-label": "Authorized CallerIDs",
        }
        row_attrs = {
            "data-callerid": lambda record: record.pk,
            "class": lambda record: "text-body-secondary" if record.is_removed else "",
        }
        empty_text = "No authorized CallerIDs match."

    def __init__(self, data, *, extension, can_write: bool, decimals: int, **kwargs):
        super().__init__(data, **kwargs)
        self.extension = extension
        self.can_write = can_write
        self.decimals = decimals
        self.cost_report_url = _url_or_none("credit:cost_report", extension.pk)
        self.credit_page_available = _url_or_none("credit:callerid_credit", 0) is not None
        if not can_write:
            self.columns.hide("selection")

    def _writable(self, record) -> bool:
        return self.can_write and not record.is_removed

    def render_selection(self, record):
        if not self._writable(record):
            return ""
        return format_html(
            '<input type="checkbox" class="form-check-input" name="ids" value="{}" '
            'aria-label="Select {}">',
            record.pk,
            record.number,
        )

    def render_s(self, record):
        text = status_text(record, self.extension.pin_lock_limit)
        icon = _ICONS["locked" if record.status_reason == LOCKED_REASON else record.status]
        status = format_html(
            '<span title="{}" data-status="{}">{}<span class="visually-hidden">{}</span></span>',
            text,
            record.status,
            icon,
            text,
        )
        if not self._writable(record):
            return status
        verb = "Disable" if record.status == CallerIDStatus.ENABLED else "Enable"
        return format_html(
            '{} <button type="submit" class="btn btn-outline-secondary btn-sm py-0 px-1 ms-1" '
            'formaction="{}" formmethod="post" aria-label="{} {}" title="{} {}">{}</button>',
            status,
            reverse("callerids:toggle", args=[record.pk]),
            verb,
            record.number,
            verb,
            record.number,
            verb,
        )

    def render_c(self, record):
        if self.cost_report_url is None:
            return mark_safe('<span class="text-body-secondary" aria-disabled="true">C</span>')
        return format_html(
            '<a href="{}?callerid={}" title="Cost report of {}" aria-label="Cost report of {}">'
            "C</a>",
            self.cost_report_url,
            record.pk,
            record.number,
            record.number,
        )

    def render_number(self, record, value):
        if not self.can_write:
            return value
        return format_html(
            '<a href="{}" title="Edit {}">{}</a>',
            reverse("callerids:edit", args=[record.pk]),
            value,
            value,
        )

    def render_pin(self, record):
        return "Yes" if record.has_pin else "No"

    def render_total(self, record):
        return format_amount(record.total, self.decimals, unlimited=record.unlimited)

    def render_available(self, record):
        return format_amount(record.available, self.decimals, unlimited=record.unlimited)

    def render_created(self, value):
        return format_created(value)

    def render_b(self, record):
        if not self.credit_page_available:
            return mark_safe(
                '<span class="text-body-secondary" aria-disabled="true" '
                'title="The credit page is not available yet">B</span>'
            )
        return format_html(
            '<a href="{}" title="Credit of {}" aria-label="Credit of {}">B</a>',
            reverse("credit:callerid_credit", args=[record.pk]),
            record.number,
            record.number,
        )
