"""Exports of authorized CallerIDs (SPEC §4, §8): one extension's list, or all the user sees."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q

from callback.exports import ExtensionsExporter
from callback.filters.extensions import ExtensionFilter
from callback.scope import get_extension_for_user
from callerids.filters import CallerIDFilter
from callerids.models import CallerIDStatus, status_label, status_label_sql
from callerids.scope import callerids_for
from exports.cells import DATETIME, MONEY, PHONE, TEXT, YES_NO, Column
from exports.exporters import Exporter, file_name_part
from exports.registry import register
from tenancy.exports import PanelExporter
from tenancy.preferences import get_preferences


@register
class CallerIDsExporter(PanelExporter):
    """One extension's authorized CallerIDs as currently searched, all pages."""

    identifier = "callerids"
    verbose_name = "Authorized CallerIDs"
    filterset_class = CallerIDFilter
    object_params = ("extension",)
    csv_copy = True

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first (404 outside it), then the page's search.
        self.queryset = self.filter(self.scoped_queryset())
        self.preferences = get_preferences()

    def scoped_queryset(self):
        self.extension = get_extension_for_user(self.user, self.object_id("extension"))
        return callerids_for(self.user).filter(extension=self.extension)

    def columns(self) -> list[Column]:
        return [
            Column("Callback Number", PHONE, "number"),
            Column(
                "Status",
                TEXT,
                ("status", "status_reason"),
                width=22,
                # The one status label, in Python and in SQL (callerids.models).
                compute=status_label,
                sql=status_label_sql,
            ),
            # Whether there is a PIN: the hash itself is never read.
            Column("PIN", TEXT, "has_pin", width=6, labels=YES_NO),
            Column("Total Credit", MONEY, "total", unlimited_if="unlimited"),
            Column("Available Credit", MONEY, "available", unlimited_if="unlimited"),
            Column("Currency", TEXT, width=10, constant=self.preferences.currency),
            Column("Created", DATETIME, "created_at", width=22),
        ]

    def export_queryset(self):
        has_pin = ExpressionWrapper(~Q(pin_hash=""), output_field=BooleanField())
        return self.queryset.annotate(has_pin=has_pin)

    def money_decimals(self) -> int:
        return self.preferences.decimals

    def file_stem(self) -> str:
        return f"callerids-{file_name_part(self.extension.number)}"


@register
class AllCallerIDsExporter(CallerIDsExporter):
    """Every authorized CallerID the user may see, with its extension and organization."""

    identifier = "callerids_all"
    verbose_name = "Authorized CallerIDs"
    object_params = ()

    def scoped_queryset(self):
        return callerids_for(self.user)

    def columns(self) -> list[Column]:
        return [
            *super().columns(),
            Column("Extension", TEXT, "extension__number", width=14),
            Column("Organization", TEXT, "extension__organization__name", width=24),
        ]

    def file_stem(self) -> str:
        return "callerids-all"


def _in_extension_order(extension_ordering) -> list:
    """The CallerIDs' ORDER BY following the extensions list's order, then newest first."""
    keys = []
    for key in extension_ordering:
        if not isinstance(key, str):
            break  # an expression (never made by the extensions table today): stop there
        descending = key.startswith("-")
        keys.append(f"{'-' if descending else ''}extension__{key.lstrip('-')}")
    return [*keys, "extension_id", "-created_at", "-id"]


@register
class ExtensionListCallerIDsExporter(AllCallerIDsExporter):
    """ "Export all CallerIDs" of the callback extensions list: the CallerIDs (not removed)
    of every extension in the list's current search (q, organization, return mode, status,
    sort), grouped by extension in the list's order, newest first within each."""

    identifier = "extension_list_callerids"
    filterset_class = ExtensionFilter

    @classmethod
    def search_params(cls) -> set[str]:
        return ExtensionsExporter.search_params()

    def __init__(self, *, user, params):
        Exporter.__init__(self, user=user, params=params)
        # The list's own export resolves the extensions: its scope, its search and its
        # sort, each refused (400) as that export refuses it.
        extensions = ExtensionsExporter(user=user, params=params).queryset
        self.queryset = (
            callerids_for(user)
            .filter(extension__in=extensions.order_by().values("pk"))
            .exclude(status=CallerIDStatus.REMOVED)
            .order_by(*_in_extension_order(extensions.query.order_by))
        )
        self.preferences = get_preferences()

    def file_stem(self) -> str:
        return "callerids-of-extensions"
