"""{% export_buttons "callerids" extension=extension.pk %}: the Export to Excel / CSV buttons.

The links carry the page's current search (its query string, without pagination) plus
the arguments naming what is exported, so the export is the list as currently searched.
"""

from django import template
from django.http import QueryDict
from django.urls import reverse

register = template.Library()

# Pagination belongs to the page, not to its search: an export covers all pages.
_PAGE_ONLY = ("page", "per_page", "after", "before", "last")  # last three: audit log keys


@register.inclusion_tag("exports/buttons.html", takes_context=True)
def export_buttons(context, identifier: str, **objects):
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for name in _PAGE_ONLY:
        params.pop(name, None)
    for name, value in objects.items():
        params[name] = str(value)
    query = params.urlencode()
    semicolon = params.copy()
    semicolon["dialect"] = "semicolon"

    def url(file_format: str, querystring: str) -> str:
        base = reverse("exports:download", args=[identifier, file_format])
        return f"{base}?{querystring}" if querystring else base

    return {
        "xlsx_url": url("xlsx", query),
        "csv_url": url("csv", query),
        "csv_semicolon_url": url("csv", semicolon.urlencode()),
    }
