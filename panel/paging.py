"""Sorting and paging a panel list from its URL."""

from __future__ import annotations

from django.core.paginator import EmptyPage
from django_tables2 import RequestConfig, Table


def configure_list(request, table: Table, *, per_page: int) -> Table:
    """The sort and the page come from the URL; the page size never does.

    django-tables2 also reads `per_page` from the URL: a negative one made a 500 and a huge
    one a page of every row. A page past the end (or below 1) shows the nearest page.
    """
    RequestConfig(request, paginate=False).configure(table)  # the sort only
    try:
        number = max(int(request.GET.get(table.prefixed_page_field) or 1), 1)
    except ValueError:
        number = 1
    try:
        table.paginate(page=number, per_page=per_page)
    except EmptyPage:
        table.paginate(page=table.paginator.num_pages, per_page=per_page)
    return table
