"""{% export_buttons %}: links carrying the page's search, without its pagination."""

from urllib.parse import parse_qs, urlsplit

from django.template import Context, Template
from django.test import RequestFactory


def render(query: str, **objects) -> str:
    request = RequestFactory().get(f"/extensions/5/callerids/?{query}")
    args = " ".join(f"{name}={value}" for name, value in objects.items())
    template = Template("{% load export_buttons %}{% export_buttons 'callerids' " + args + " %}")
    return template.render(Context({"request": request}))


def hrefs(html: str) -> list[str]:
    return [part.split('"', 1)[0].replace("&amp;", "&") for part in html.split('href="')[1:]]


def test_buttons_carry_the_search_and_the_extension_but_not_the_page():
    html = render("q=0721&status=disabled&sort=-total&page=3&per_page=50", extension=5)

    assert "Export to Excel" in html and "Export to CSV" in html
    xlsx, csv, *rest = hrefs(html)
    assert urlsplit(xlsx).path == "/exports/callerids.xlsx"
    assert urlsplit(csv).path == "/exports/callerids.csv"
    assert parse_qs(urlsplit(xlsx).query) == {
        "q": ["0721"],
        "status": ["disabled"],
        "sort": ["-total"],
        "extension": ["5"],
    }
    assert parse_qs(urlsplit(rest[-1]).query)["dialect"] == ["semicolon"]
