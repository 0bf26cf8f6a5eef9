"""Export of the callback extensions list (SPEC §8), built like every list export
(tenancy.exports.ListExporter: the page's scope, FilterSet and table)."""

from __future__ import annotations

from callback.filters.extensions import ExtensionFilter
from callback.models import ReturnMode
from callback.scope import extensions_for
from callback.tables.extensions import ExtensionTable
from exports.cells import DATETIME, TEXT, Column
from exports.registry import register
from tenancy.exports import ListExporter, yes_no

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
            Column("Extension number", TEXT),
            Column("Name", TEXT, width=24),
            Column("Organization", TEXT, width=24),
            Column("Reseller", TEXT, width=24),
            Column("Return calls", TEXT, width=34),
            Column("Active", TEXT, width=8),
            Column("Created", DATETIME, width=22),
        ]

    def rows(self):
        values = self.queryset.values_list(
            "number",
            "name",
            "organization__name",
            "organization__reseller__name",
            "return_mode",
            "active",
            "created_at",
        )
        for number, name, organization, reseller, mode, active, created in values.iterator(
            chunk_size=self.chunk_size
        ):
            yield (
                number,
                name,
                organization,
                reseller,
                _RETURN_MODES.get(mode, mode),
                yes_no(active),
                created,
            )

    def file_stem(self) -> str:
        return "callback-extensions"
