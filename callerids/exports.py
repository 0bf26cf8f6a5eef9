"""Exports of authorized CallerIDs (SPEC §4, §8): one extension's list, or all the user sees."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q

from callback import scoping
from callback.exports import ExtensionsExporter
from callback.filters.extensions import ExtensionFilter
from callerids.filters import CallerIDFilter
from callerids.models import CallerIDStatus, status_label, status_label_sql
from credit.selectors import get_preferences
from exports.cells import DATETIME, MONEY, PHONE, TEXT, UNLIMITED, Column
from exports.exporters import Exporter, file_name_part
from exports.registry import register
from exports.renderers.csv_copy import CopyColumn, CopySource, text_value

_FIELDS = (
    "number",
    "status",
    "status_reason",
    "has_pin",
    "unlimited",
    "total",
    "available",
    "created_at",
)


def _status_sql(status: str, reason: str) -> CopyColumn:
    """The status label (callerids.models.status_label) in SQL, for the COPY path: written
    as any TEXT cell."""
    sql, params = status_label_sql(status, reason)
    return CopyColumn(sql=sql, params=tuple(params))


@register
class CallerIDsExporter(Exporter):
    """One extension's authorized CallerIDs as currently searched, all pages."""

    identifier = "callerids"
    verbose_name = "Authorized CallerIDs"
    filterset_class = CallerIDFilter
    object_params = ("extension",)

    def __init__(self, *, user, params):
        super().__init__(user=user, params=params)
        # Scope first (404 outside it), then the page's search.
        self.queryset = self.filter(self.scoped_queryset())
        self.currency = get_preferences().currency

    def scoped_queryset(self):
        self.extension = scoping.get_extension_for_user(self.user, self.object_id("extension"))
        return scoping.callerids_for(self.user).filter(extension=self.extension)

    def columns(self) -> list[Column]:
        return [
            Column("Callback Number", PHONE),
            Column("Status", TEXT, width=22),
            Column("PIN", TEXT, width=6),
            Column("Total Credit", MONEY),
            Column("Available Credit", MONEY),
            Column("Currency", TEXT, width=10),
            Column("Created", DATETIME, width=22),
        ]

    def values(self):
        # The PIN column says whether there is one: the hash itself is never read.
        has_pin = ExpressionWrapper(~Q(pin_hash=""), output_field=BooleanField())
        return self.queryset.annotate(has_pin=has_pin).values_list(*self.fields())

    def fields(self) -> tuple[str, ...]:
        return _FIELDS

    def rows(self):
        currency = self.currency
        for (
            number,
            status,
            reason,
            has_pin,
            unlimited,
            total,
            available,
            created,
            *rest,
        ) in self.values().iterator(chunk_size=self.chunk_size):
            yield (
                number,
                status_label(status, reason),
                "Yes" if has_pin else "No",
                UNLIMITED if unlimited else total,
                UNLIMITED if unlimited else available,
                currency,
                created,
                *rest,
            )

    def copy_source(self) -> CopySource:
        # r.c0 … follow fields(): number, status, reason, has_pin, unlimited, total,
        # available, created_at, then any extra field, each one column.
        extra = [CopyColumn(f"r.c{i}") for i in range(len(_FIELDS), len(self.fields()))]
        return CopySource(
            self.values(),
            [
                CopyColumn("r.c0"),
                _status_sql("r.c1", "r.c2"),
                CopyColumn(
                    "CASE WHEN r.c3 THEN %s ELSE %s END",
                    (text_value("Yes"), text_value("No")),
                    formatted=True,
                ),
                CopyColumn("r.c5", unlimited="r.c4"),
                CopyColumn("r.c6", unlimited="r.c4"),
                CopyColumn.value(self.currency),
                CopyColumn("r.c7"),
                *extra,
            ],
        )

    def file_stem(self) -> str:
        return f"callerids-{file_name_part(self.extension.number)}"


@register
class AllCallerIDsExporter(CallerIDsExporter):
    """Every authorized CallerID the user may see, with its extension and organization."""

    identifier = "callerids_all"
    verbose_name = "Authorized CallerIDs"
    object_params = ()

    def scoped_queryset(self):
        return scoping.callerids_for(self.user)

    def columns(self) -> list[Column]:
        return [
            *super().columns(),
            Column("Extension", TEXT, width=14),
            Column("Organization", TEXT, width=24),
        ]

    def fields(self) -> tuple[str, ...]:
        return (*_FIELDS, "extension__number", "extension__organization__name")

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
            scoping.callerids_for(user)
            .filter(extension__in=extensions.order_by().values("pk"))
            .exclude(status=CallerIDStatus.REMOVED)
            .order_by(*_in_extension_order(extensions.query.order_by))
        )
        self.currency = get_preferences().currency

    def file_stem(self) -> str:
        return "callerids-of-extensions"
