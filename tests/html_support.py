"""Reading pages as a browser would: what a form submits untouched, and the ids on a page."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """The values a browser submits for each form on the page, before the user types."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict, dict[str, str]]] = []
        self._current: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append((attrs, self._current))
            return
        if self._current is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._current[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button", "reset", "file", "image"):
                self._current[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._current[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self._current[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._current is not None:
            self._current[self._textarea] += data


def form_values(html: str, label: str) -> dict[str, str]:
    """What the form with aria-label (or id) `label` sends when submitted as shown."""
    reader = _FormReader()
    reader.feed(html)
    for attrs, values in reader.forms:
        if label in (attrs.get("aria-label"), attrs.get("id")):
            return dict(values)
    raise AssertionError(f"no form labelled {label!r} on the page")


class _IdReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1

    handle_startendtag = handle_starttag


def duplicate_ids(html: str) -> list[str]:
    """Every id that more than one element of the page carries."""
    reader = _IdReader()
    reader.feed(html)
    return sorted(name for name, count in reader.ids.items() if count > 1)


def posts_to_itself(html: str, path: str) -> bool:
    """Whether the page shows a form that a browser posts back to `path` (the page's own
    address: no action, an empty one, or `path` itself)."""
    reader = _FormReader()
    reader.feed(html)
    return any(
        (attrs.get("method") or "").lower() == "post" and (attrs.get("action") or path) == path
        for attrs, _values in reader.forms
    )
