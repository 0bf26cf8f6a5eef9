"""The base of every exporter: identifier, name, permission, columns and a rows() generator.

An exporter is built for one user and one request's query parameters. It accepts only the
parameters of its page's search form (its FilterSet, sort key included) and its own
required parameters (e.g. the extension); anything else is refused (SPEC §8). Scope comes
first: the exporter resolves its objects and its queryset through its app's scope, then
the FilterSet narrows them.

exports imports no domain app: who may export and the decimals money cells show are the
domain's answers, given by the base class every domain exporter derives from
(tenancy.exports.ScopedExporter).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from django.http import QueryDict
from django.utils import timezone
from django_filters import FilterSet

from exports.cells import Column


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

    def __init__(self, *, user, params: Mapping[str, str]):
        self.user = user
        self.params = params

    @classmethod
    def has_permission(cls, user) -> bool:
        """Whether `user` may use this export (tenancy.exports.ScopedExporter answers)."""
        raise NotImplementedError

    def money_decimals(self) -> int:
        """The decimals an XLSX money cell shows (tenancy.exports.ScopedExporter answers)."""
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
        raise NotImplementedError

    def rows(self) -> Iterator[Sequence]:
        """One tuple of values per row, in the order of columns(); a generator, never a list."""
        raise NotImplementedError

    def copy_source(self):
        """What the CSV renderer's COPY path needs (exports.renderers.csv_copy.CopySource),
        or None: this exporter's rows are always formatted in Python."""
        return None

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
