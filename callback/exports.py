"""Export of the callback extensions list (SPEC §8), built like every list export
(tenancy.exports.ListExporter: the page's scope, FilterSet and table)."""

from __future__ import annotations

from callback.filters.extensions import ExtensionFilter
from callback.models import ReturnMode
from callback.scope import extensions_for
from callback.tables.extensions import ExtensionTable
from exports.cells import DATETIME, TEXT, YES_NO, Column
from exports.registry import register
from tenancy.exports import ListExporter

_RETURN_MODES = dict(ReturnMode.choices)


@register
class ExtensionsExporter(ListExporter):
    """The callback extensions list as searched (every role, within its scope)."""

    identifier = "extensions"
    verbose_name = "Callback extensions"
    filterset_class = ExtensionFilter
    table_class = ExtensionTable

    def scoped_queryset(self):
        return extensions_for(self.user)

    def columns(self) -> list[Column]:
        return [
            Column("Extension number", TEXT, "number"),
            Column("Name", TEXT, "name", width=24),
            Column("Organization", TEXT, "organization__name", width=24),
            Column("Reseller", TEXT, "organization__reseller__name", width=24),
            Column("Return calls", TEXT, "return_mode", width=34, labels=_RETURN_MODES),
            Column("Active", TEXT, "active", width=8, labels=YES_NO),
            Column("Created", DATETIME, "created_at", width=22),
        ]

    def file_stem(self) -> str:
        return "callback-extensions"
