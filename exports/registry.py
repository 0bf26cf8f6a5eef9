"""The registry of exporters: identifier -> Exporter class.

Apps register theirs in their `exports.py` with `@register`; exports.apps imports every
app's `exports` module at startup.
"""

from __future__ import annotations

from exports.exporters import Exporter

_EXPORTERS: dict[str, type[Exporter]] = {}


def register(exporter_class: type[Exporter]) -> type[Exporter]:
    identifier = exporter_class.identifier
    existing = _EXPORTERS.get(identifier)
    if existing is not None and existing is not exporter_class:
        raise ValueError(f"Two exporters use the identifier {identifier!r}")
    _EXPORTERS[identifier] = exporter_class
    return exporter_class


def get_exporter(identifier: str) -> type[Exporter] | None:
    return _EXPORTERS.get(identifier)


def all_exporters() -> dict[str, type[Exporter]]:
    return dict(_EXPORTERS)
