"""Exports of the tenancy lists, and the list exporter every list page's export builds on
(SPEC §8: every list can be searched and exported).

Each exporter takes its page's scoped queryset (the same selector or scoping helper), the
page's FilterSet (the same search parameters, refused when invalid) and the page's table
(its sort keys and default order), so an export holds exactly the rows the page lists,
across all pages, in the same order.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import django_tables2 as tables
from django.http import QueryDict

from exports.cells import DATETIME, INTEGER, TEXT, Column
from exports.exporters import Exporter, ExportParamsError
from exports.registry import register
from tenancy import scoping, selectors
from tenancy.filters.tenancy import AuditFilter, OrganizationFilter, ResellerFilter, UserFilter
from tenancy.models import ApiToken, Role
from tenancy.preferences import get_preferences
from tenancy.tables.tenancy import (
    AuditTable,
    OrganizationTable,
    ResellerTable,
    UserTable,
)
from tenancy.tables.tenancy import _values as audit_values_text
from tenancy.views.tokens import TokenTable

SORT_PARAM = "sort"  # django-tables2's sort parameter, as the pages use it

_ROLES = dict(Role.choices)


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _status(active: bool) -> str:
    return "Active" if active else "Inactive"


class ScopedExporter(Exporter):
    """The base of every domain exporter: what exports asks the domain."""

    @classmethod
    def has_permission(cls, user) -> bool:
        """Every role may export what it can see (SPEC §8); users without a role may not."""
        return scoping.role_of(user) is not None

    def money_decimals(self) -> int:
        return get_preferences().decimals


class ListExporter(ScopedExporter):
    """An export of one list page: its scope, its FilterSet, its table's sort keys."""

    # The page's table: its orderable columns are the accepted sort keys, its Meta.order_by
    # the default order.
    table_class: ClassVar[type[tables.Table]]

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first, then the page's search, then the page's order.
        self.queryset = self.ordered(self.filter(self.scoped_queryset()))

    @classmethod
    def search_params(cls) -> set[str]:
        return super().search_params() | {SORT_PARAM}

    def scoped_queryset(self):
        raise NotImplementedError

    def filter(self, queryset):
        """The page's FilterSet, bound as the page binds it (its choices scoped to the user)."""
        if self.filterset_class is None:
            return queryset
        data = QueryDict(mutable=True)
        for name in self.filterset_class.base_filters:
            if name in self.params:
                data[name] = self.params[name]
        # The filters' drop-downs (organization, reseller) list only what the user may see:
        # they read request.user, nothing else of the request.
        filterset = self.filterset_class(
            data=data, queryset=queryset, request=SimpleNamespace(user=self.user)
        )
        if not filterset.is_valid():
            errors = " ".join(
                f"'{name}': {' '.join(str(m) for m in messages)}"
                for name, messages in filterset.errors.items()
            )
            raise ExportParamsError(f"Invalid search parameters. {errors}")
        return filterset.qs

    def ordered(self, queryset):
        """The queryset in the order the page's table puts it for the same `sort`."""
        sort = self.params.get(SORT_PARAM, "")
        table = self.table_class(queryset, order_by=(sort,) if sort else None)
        if sort and tuple(table.order_by) != (sort,):
            keys = [
                name
                for name, column in table.columns.items()
                if column.orderable and name in self.table_class.base_columns
            ]
            raise ExportParamsError(
                f"Unknown sort '{sort}'. Use one of: {', '.join(keys)} (- for descending)."
            )
        return _with_tie_breaker(table.data.data)


def _with_tie_breaker(queryset):
    """The primary key breaks ties (in the direction of the first key): a stable order."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    first = str(ordering[0]) if ordering else ""
    descending = first.startswith("-") or "descending=True" in first
    return queryset.order_by(*ordering, "-pk" if descending else "pk")


class AdminListExporter(ListExporter):
    @classmethod
    def has_permission(cls, user) -> bool:
        """Like its page: administrators only."""
        return scoping.is_admin(user)


@register
class ResellersExporter(AdminListExporter):
    identifier = "resellers"
    verbose_name = "Resellers"
    filterset_class = ResellerFilter
    table_class = ResellerTable

    def scoped_queryset(self):
        return selectors.reseller_list(self.user)

    def columns(self) -> list[Column]:
        return [
            Column("Name", TEXT, width=24),
            Column("Status", TEXT, width=10),
            Column("Max active CallerIDs", INTEGER),
            Column("Active CallerIDs", INTEGER),
            Column("May grant Unlimited", TEXT),
            Column("Organizations", INTEGER),
            Column("Users", INTEGER),
            Column("Created", DATETIME, width=22),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "name",
            "active",
            "max_active_callerids",
            "active_callerids",
            "may_grant_unlimited",
            "organization_count",
            "user_count",
            "created_at",
        )
        for name, active, cap, counter, unlimited, orgs, users, created in values.iterator(
            chunk_size=self.chunk_size
        ):
            # An empty maximum means no own cap: only the server's license applies.
            yield (name, _status(active), cap, counter, yes_no(unlimited), orgs, users, created)

    def file_stem(self) -> str:
        return "resellers"


@register
class OrganizationsExporter(ListExporter):
    """The organizations list as searched (every role, within its scope)."""

    identifier = "organizations"
    verbose_name = "Organizations"
    filterset_class = OrganizationFilter
    table_class = OrganizationTable

    def scoped_queryset(self):
        return selectors.organization_list(self.user)

    def columns(self) -> list[Column]:
        return [
            Column("Name", TEXT, width=24),
            Column("Reseller", TEXT, width=24),
            Column("Status", TEXT, width=10),
            Column("Callback extensions", INTEGER),
            Column("Created", DATETIME, width=22),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "name", "reseller__name", "active", "extension_count", "created_at"
        )
        for name, reseller, active, extensions, created in values.iterator(
            chunk_size=self.chunk_size
        ):
            yield (name, reseller, _status(active), extensions, created)

    def file_stem(self) -> str:
        return "organizations"


@register
class UsersExporter(AdminListExporter):
    """Users with their role and binding; passwords (even hashed) are never read."""

    identifier = "users"
    verbose_name = "Users"
    filterset_class = UserFilter
    table_class = UserTable

    def scoped_queryset(self):
        return selectors.user_list(self.user)

    def columns(self) -> list[Column]:
        return [
            Column("Username", TEXT, width=20),
            Column("Role", TEXT, width=18),
            Column("Bound to", TEXT, width=24),
            Column("Status", TEXT, width=10),
            Column("Last login", DATETIME, width=22),
            Column("Date joined", DATETIME, width=22),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "username",
            "profile__role",
            "profile__reseller__name",
            "is_active",
            "last_login",
            "date_joined",
        )
        for username, role, reseller, active, last_login, joined in values.iterator(
            chunk_size=self.chunk_size
        ):
            yield (
                username,
                _ROLES.get(role, role) if role else "no role",
                _binding(role, reseller),
                _status(active),
                last_login,
                joined,
            )

    def file_stem(self) -> str:
        return "users"


def _binding(role: str | None, reseller: str | None) -> str:
    """What the page's "Bound to" column says."""
    if reseller:
        return reseller
    return "whole server" if role in (Role.ADMIN, Role.STAFF) else "—"


@register
class AuditExporter(AdminListExporter):
    """The audit log as searched; its values are already masked when recorded (SPEC §2)."""

    identifier = "audit"
    verbose_name = "Audit log"
    filterset_class = AuditFilter
    table_class = AuditTable

    def scoped_queryset(self):
        return selectors.audit_list(self.user)

    def columns(self) -> list[Column]:
        return [
            Column("When", DATETIME, width=22),
            Column("Who", TEXT, width=20),
            Column("Action", TEXT, width=24),
            Column("Object type", TEXT, width=18),
            Column("Object", TEXT, width=30),
            Column("Reseller", TEXT, width=20),
            Column("From", TEXT, width=16),
            Column("Before", TEXT, width=50),
            Column("After", TEXT, width=50),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "created_at",
            "actor_label",
            "action",
            "object_type",
            "object_repr",
            "reseller__name",
            "address",
            "before",
            "after",
        )
        for when, who, action, kind, obj, reseller, address, before, after in values.iterator(
            chunk_size=self.chunk_size
        ):
            # JSON as the page shows it; TEXT, so a value that looks like a formula is
            # written as text (SPEC §8).
            yield (
                when,
                who,
                action,
                kind,
                obj,
                reseller,
                address,
                audit_values_text(before) or None,
                audit_values_text(after) or None,
            )

    def file_stem(self) -> str:
        return "audit-log"


@register
class ApiTokensExporter(AdminListExporter):
    """API tokens: their prefix identifies them; secrets and their hashes are never read."""

    identifier = "api_tokens"
    verbose_name = "API tokens"
    table_class = TokenTable

    def scoped_queryset(self):
        return ApiToken.objects.all() if scoping.is_admin(self.user) else ApiToken.objects.none()

    def columns(self) -> list[Column]:
        return [
            Column("Name", TEXT, width=24),
            Column("Prefix", TEXT, width=18),
            Column("Scope", TEXT, width=20),
            Column("Created", DATETIME, width=22),
            Column("Created by", TEXT, width=16),
            Column("Last used", DATETIME, width=22),
            Column("Last address", TEXT, width=16),
            Column("Revoked", DATETIME, width=22),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "name",
            "prefix",
            "reseller__name",
            "created_at",
            "created_by__username",
            "last_used_at",
            "last_used_address",
            "revoked_at",
        )
        for name, prefix, reseller, created, by, used, address, revoked in values.iterator(
            chunk_size=self.chunk_size
        ):
            yield (
                name,
                prefix,
                reseller or "Whole server",
                created,
                by or "manage.py",
                used,
                address,
                revoked,
            )

    def file_stem(self) -> str:
        return "api-tokens"
