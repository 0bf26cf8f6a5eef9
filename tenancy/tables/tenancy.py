"""Tables of the tenancy and audit lists (django-tables2: sortable, paginated)."""

from __future__ import annotations

import json

import django_tables2 as tables
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from tenancy.models import AuditEvent, Organization, Reseller


def _yes_no(value) -> str:
    return "Yes" if value else "No"


class ResellerTable(tables.Table):
    name = tables.Column(linkify=("tenancy:reseller_edit", [tables.A("pk")]))
    active = tables.Column(verbose_name="Status")
    max_active_callerids = tables.Column(verbose_name="Max active CallerIDs", default="no own cap")
    active_callerids = tables.Column(verbose_name="Active CallerIDs")
    may_grant_unlimited = tables.Column(verbose_name="May grant Unlimited")
    organization_count = tables.Column(verbose_name="Organizations")
    user_count = tables.Column(verbose_name="Users")

    class Meta:
        model = Reseller
        fields = [
            "name",
            "active",
            "max_active_callerids",
            "active_callerids",
            "may_grant_unlimited",
            "organization_count",
            "user_count",
        ]
        order_by = "name"
        empty_text = "No resellers match."

    def render_active(self, value):
        return "Active" if value else "Inactive"

    def render_may_grant_unlimited(self, value):
        return _yes_no(value)


class OrganizationTable(tables.Table):
    name = tables.Column()
    reseller = tables.Column(order_by="reseller__name")
    active = tables.Column(verbose_name="Status")
    extension_count = tables.Column(verbose_name="Callback extensions")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i")

    class Meta:
        model = Organization
        fields = ["name", "reseller", "active", "extension_count", "created_at"]
        order_by = "name"
        empty_text = "No organizations match."

    def __init__(self, *args, can_write: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_write = can_write

    def render_name(self, record, value):
        if not self.can_write:
            return value
        return format_html(
            '<a href="{}">{}</a>', reverse("tenancy:organization_edit", args=[record.pk]), value
        )

    def render_active(self, value):
        return "Active" if value else "Inactive"


class UserTable(tables.Table):
    username = tables.Column(linkify=("tenancy:user_edit", [tables.A("pk")]))
    role = tables.Column(accessor="profile__role", order_by="profile__role", default="no role")
    reseller = tables.Column(
        accessor="profile__reseller__name",
        order_by="profile__reseller__name",
        verbose_name="Bound to",
        empty_values=(),
    )
    is_active = tables.Column(verbose_name="Status")
    last_login = tables.DateTimeColumn(format="Y-m-d H:i", default="never")

    class Meta:
        model = get_user_model()
        fields = ["username", "role", "reseller", "is_active", "last_login"]
        order_by = "username"
        empty_text = "No users match."

    def render_reseller(self, record, value):
        if value:
            return value
        role = getattr(getattr(record, "profile", None), "role", None)
        return "whole server" if role in ("admin", "staff") else "—"

    def render_is_active(self, value):
        return "Active" if value else "Inactive"


def _values(values) -> str:
    if not values:
        return ""
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


EMPTY = "\u2014"  # what a missing or empty value shows
SHORT = 60  # characters of one value in the compact list (the raw values keep it whole)


def _shown(value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "\u2026"


def changes(before, after) -> list[tuple[str, str | None, str | None]]:
    """(field, before, after) for each field whose value differs, in the order the event
    lists them; before or after None when that side has no such field (created, deleted).
    Non-dict values (a list, a text) count as one field named "value"."""
    before = (
        before if isinstance(before, dict) else ({} if before in (None, "") else {"value": before})
    )
    after = after if isinstance(after, dict) else ({} if after in (None, "") else {"value": after})
    fields = list(before) + [name for name in after if name not in before]
    out = []
    for name in fields:
        old, new = before.get(name), after.get(name)
        if name in before and name in after and old == new:
            continue
        out.append(
            (
                name,
                _shown(old) if name in before else None,
                _shown(new) if name in after else None,
            )
        )
    return out


class AuditTable(tables.Table):
    created_at = tables.DateTimeColumn(
        verbose_name="When", format="Y-m-d H:i:s", attrs={"td": {"class": "text-nowrap"}}
    )
    actor_label = tables.Column(verbose_name="Who")
    action = tables.Column()
    object_type = tables.Column(verbose_name="Object type")
    object_repr = tables.Column(verbose_name="Object")
    address = tables.Column(verbose_name="From", default="")
    changes = tables.Column(
        verbose_name="Changes",
        orderable=False,
        empty_values=(),
        accessor="pk",
        attrs={"td": {"class": "audit-changes"}},
    )

    class Meta:
        model = AuditEvent
        fields = [
            "created_at",
            "actor_label",
            "action",
            "object_type",
            "object_repr",
            "address",
            "changes",
        ]
        order_by = "-created_at"
        empty_text = "No audit events match."
        attrs = {"class": "table table-sm table-striped small"}

    def render_changes(self, record):
        """A compact before → after line per changed field; the raw values one click away."""
        lines = []
        for name, old, new in changes(record.before, record.after):
            if old is None:
                line = format_html('<span class="field">{}</span>: <ins>{}</ins>', name, new)
            elif new is None:
                line = format_html('<span class="field">{}</span>: <del>{}</del>', name, old)
            else:
                line = format_html(
                    '<span class="field">{}</span>: <del>{}</del> \u2192 <ins>{}</ins>',
                    name,
                    old,
                    new,
                )
            lines.append(format_html("<li>{}</li>", line))
        if not lines and not record.before and not record.after:
            return EMPTY
        summary = format_html_join("", "{}", ((line,) for line in lines)) if lines else ""
        # A new object (nothing before): its fields flow on as one paragraph, not a line each.
        listing = "changes changes-new" if not record.before else "changes"
        return format_html(
            '<ul class="{}">{}</ul><details class="small"><summary>Raw values</summary>'
            '<div class="text-break"><span class="text-body-secondary">Before:</span> '
            '<code>{}</code><br><span class="text-body-secondary">After:</span> '
            "<code>{}</code></div></details>",
            listing,
            summary or format_html("<li>{}</li>", "no field changed"),
            _values(record.before) or EMPTY,
            _values(record.after) or EMPTY,
        )
