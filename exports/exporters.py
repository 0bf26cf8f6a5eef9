"""The base of every exporter: identifier, name, permission, its columns and its queryset.

An exporter is built for one user and one request's query parameters. It accepts only the
parameters of its page's search form (its FilterSet, sort key included) and its own
required parameters (e.g. the extension); anything else is refused (SPEC §8). Scope comes
first: the domain exporter resolves its objects and its queryset within the user's scope,
then the FilterSet narrows them.

An exporter declares two things: `columns()` (exports.cells.Column: header, kind, source
field and how its value is written) and `export_queryset()` (scoped, filtered, ordered).
The fields it reads, its rows and, with `csv_copy`, the SQL of the CSV COPY path are
derived from them. This package knows no domain app: permission, scope and the money
format's decimals come from the domain exporters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import ClassVar

from django.http import QueryDict
from django.utils import timezone
from django_filters import FilterSet

from exports.cells import Column, column_values, fields_of


class ExportParamsError(Exception):
    """The request's parameters do not fit the export: answered 400 with this message."""


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._]+")


def file_name_part(text: str) -> str:
    """A piece of a file name: characters unsafe in file names become '-'."""
    return _UNSAFE_IN_FILE_NAME.sub("-", str(text)).strip("-._") or "x"


class Exporter:
    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    # The FilterSet of the page the export comes from; its filter names are the accepted
    # search parameters.
    filterset_class: ClassVar[type[FilterSet] | None] = None
    # Parameters naming what is exported (e.g. "extension"); required.
    object_params: ClassVar[tuple[str, ...]] = ()
    # Rows fetched from the database at a time: memory stays flat whatever the row count.
    chunk_size: ClassVar[int] = 5000
    # Rows handed to the renderers at a time (converted a column at a time).
    rows_per_chunk: ClassVar[int] = 1000
    # The CSV renderer may let PostgreSQL write the rows (exports.renderers.csv_copy): only
    # for exporters whose every column has SQL and whose output a test compares byte for
    # byte with the general path's.
    csv_copy: ClassVar[bool] = False

    def __init__(self, *, user, params: Mapping[str, str]):
        self.user = user
        self.params = params

    @classmethod
    def has_permission(cls, user) -> bool:
        """Whether `user` may use this export at all; the domain exporters say (SPEC §8)."""
        raise NotImplementedError

    @classmethod
    def search_params(cls) -> set[str]:
        if cls.filterset_class is None:
            return set()
        return set(cls.filterset_class.base_filters)

    @classmethod
    def accepted_params(cls) -> set[str]:
        return set(cls.object_params) | cls.search_params()

    def columns(self) -> list[Column]:
        """The export's columns, declared once (exports.cells.Column)."""
        raise NotImplementedError

    def export_queryset(self):
        """The rows to export: scoped, searched and ordered (annotated with what the
        columns read). By default the `queryset` the exporter built in __init__."""
        return self.queryset

    def money_decimals(self) -> int:
        """Decimals shown by the XLSX money format (the exact 4-decimal value is written)."""
        return 4

    def fields(self) -> tuple[str, ...]:
        return fields_of(self.columns())

    def values(self):
        """The queryset's values_list of fields(): the database rows everything reads."""
        return self.export_queryset().values_list(*self.fields())

    def column_chunks(self) -> Iterator[list[list]]:
        """The rows, `rows_per_chunk` at a time, each chunk as one list of values per
        column (in the order of columns()); a generator, never the whole export."""
        convert = column_values(self.columns(), self.fields())
        database_rows = self.values().iterator(chunk_size=self.chunk_size)
        while chunk := list(islice(database_rows, self.rows_per_chunk)):
            yield convert(chunk)

    def rows(self) -> Iterator[tuple]:
        """One tuple of values per row, in the order of columns(); a generator, never a list."""
        for columns in self.column_chunks():
            yield from zip(*columns, strict=True)

    def file_stem(self) -> str:
        """What is exported, e.g. "callerids-0003-001"; the renderer adds the time and suffix."""
        raise NotImplementedError

    def sheet_title(self) -> str:
        return self.verbose_name

    def file_name(self, extension: str) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.file_stem()}-{stamp}.{extension}"

    def filter(self, queryset):
        """The scoped queryset narrowed by the page's FilterSet; bad values raise 400."""
        filterset = self.filterset_class(data=_search_data(self.params, self), queryset=queryset)
        if not filterset.is_valid():
            raise ExportParamsError(_describe_errors(filterset.errors))
        return filterset.qs

    def object_id(self, name: str) -> str:
        value = self.params.get(name, "")
        if not value:
            raise ExportParamsError(f"This export needs the parameter '{name}'.")
        return value


def _search_data(params: Mapping[str, str], exporter: Exporter) -> QueryDict:
    data = QueryDict(mutable=True)
    for name in exporter.search_params():
        if name in params:
            data[name] = params[name]
    return data


def _describe_errors(errors) -> str:
    parts = []
    for field, messages in errors.items():
        label = "Search" if field == "__all__" else f"'{field}'"
        parts.append(f"{label}: {' '.join(str(m) for m in messages)}")
    return "Invalid search parameters. " + " ".join(parts)


def check_params(exporter_class: type[Exporter], params: QueryDict, *, extra: set[str]) -> None:
    """Refuse any parameter the export's page does not have (SPEC §8: it accepts only those)."""
    accepted = exporter_class.accepted_params() | extra
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ExportParamsError(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"This export accepts: {', '.join(sorted(accepted))}."
        )
    repeated = sorted(name for name in params if len(params.getlist(name)) > 1)
    if repeated:
        raise ExportParamsError(f"Give each parameter once: {', '.join(repeated)}.")
