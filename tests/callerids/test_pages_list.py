"""The Authorized CallerIDs page of one callback extension (SPEC §4)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callerids.models import AuthorizedCallerID
from callerids.selectors import get_license
from callerids.services.callerids import disable_callerid, remove_callerid
from tenancy.audit import SYSTEM
from tenancy.services.tokens import create_token
from tests.api.conftest import ApiClient
from tests.callerids.pages_support import add, bulk_rows
from tests.html_support import form_values

pytestmark = pytest.mark.django_db


def url(extension, query=""):
    return reverse("callerids:list", args=[extension.pk]) + (f"?{query}" if query else "")


def headers(html: str) -> list[str]:
    thead = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def numbers(html: str) -> list[str]:
    return re.findall(r'aria-label="Cost report of ([^"]+)"', html)


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


def test_an_unknown_extension_is_not_found(client_for):
    assert client_for("admin").get("/extensions/999999/callerids/").status_code == 404


def test_it_refuses_post(client_for, extension_a):
    assert client_for("reseller_a").post(url(extension_a)).status_code == 405


def test_the_columns_are_the_specs_in_order(client_for, extension_a):
    add(extension_a, "1234")
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert headers(html) == [
        "",
        "S",
        "C",
        "Callback Number",
        "PIN",
        "Total Credit",
        "Available Credit",
        "Created",
        "B",
    ]


def test_the_header_names_the_extension_and_its_organization(client_for, extension_a):
    html = client_for("staff_a").get(url(extension_a)).content.decode()
    assert "0003*001" in html and "Org A1" in html


@pytest.mark.parametrize(
    "role, text",
    [
        ("admin", "1 of 1000 active authorized CallerIDs used on this server"),
        ("staff_server", "1 of 1000 active authorized CallerIDs used on this server"),
        ("reseller_a", "You can add 999 more"),
        ("staff_a", "You can add 999 more"),
    ],
)
def test_the_room_left_is_worded_per_role(client_for, extension_a, role, text, settings):
    license = get_license()
    license.max_active_callerids = 1000
    license.save()
    add(extension_a, "1234")
    html = client_for(role).get(url(extension_a)).content.decode()
    assert text in html


def test_the_header_reads_the_counters_and_never_counts_callerids(client_for, extension_a):
    add(extension_a, "1234")
    bulk_rows(extension_a, 30)
    # The counter says what it says, whatever the rows: the header shows it as is.
    license = get_license()
    license.max_active_callerids = 900
    license.active_callerids = 456
    license.save()
    with CaptureQueriesContext(connection) as queries:
        html = client_for("admin").get(url(extension_a, "status=removed")).content.decode()
    assert "456 of 900 active authorized CallerIDs used on this server" in html
    counting = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and AuthorizedCallerID._meta.db_table in q["sql"]
    ]
    # The only count is the paginator's, of the rows as searched (here: removed ones).
    assert len(counting) == 1 and "removed" in counting[0]


def test_a_row_shows_pin_credit_and_links(client_for, extension_a):
    limited = add(extension_a, "1234", pin="4321", credit=Decimal("12.5"))[0]
    unlimited = add(extension_a, "5678", unlimited=True)[0]
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    row = html.split(f'data-callerid="{limited.pk}"', 1)[1].split("</tr>", 1)[0]
    assert ">Yes<" in row and row.count(">12.50<") == 2
    assert f'href="/extensions/{extension_a.pk}/cost-report/?callerid={limited.pk}"' in row
    assert f'href="{reverse("callerids:edit", args=[limited.pk])}"' in row
    assert f'formaction="{reverse("callerids:toggle", args=[limited.pk])}"' in row
    assert f'name="ids" value="{limited.pk}"' in row
    row = html.split(f'data-callerid="{unlimited.pk}"', 1)[1].split("</tr>", 1)[0]
    assert ">No<" in row and row.count(">Unlimited<") == 2


def test_the_b_column_links_to_the_credit_page(client_for, extension_a):
    callerid = add(extension_a, "1234")[0]
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert f'href="{reverse("credit:callerid_credit", args=[callerid.pk])}"' in html


def test_created_is_shown_in_the_server_time_zone(client_for, extension_a, settings):
    settings.TIME_ZONE = "Europe/Bucharest"
    callerid = add(extension_a, "1234")[0]
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(created_at="2026-01-15T22:30:00+00:00")
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert "2026-01-16 00:30" in html


def test_a_pin_locked_callerid_says_why(client_for, extension_a):
    extension_a.pin_lock_limit = 3
    extension_a.save()
    callerid = add(extension_a, "1234", pin="1111")[0]
    disable_callerid(actor=SYSTEM, callerid=callerid)
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(
        status_reason="locked", locked_after_pins=3
    )
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert "Locked after 3 wrong PINs" in html
    assert f'aria-label="Enable {callerid.number}"' in html


def test_read_only_roles_see_no_checkboxes_buttons_or_add_link(client_for, extension_a):
    callerid = add(extension_a, "1234")[0]
    for role in ("staff_a", "staff_server"):
        html = client_for(role).get(url(extension_a)).content.decode()
        assert callerid.number in html
        assert 'name="ids"' not in html and "data-select-all" not in html
        assert "formaction" not in html
        assert "Remove selected" not in html
        assert reverse("callerids:add", args=[extension_a.pk]) not in html
        assert "Add authorized CallerIDs" not in html
        assert reverse("callerids:edit", args=[callerid.pk]) not in html


def test_writers_see_the_add_link(client_for, extension_a):
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert f'href="{reverse("callerids:add", args=[extension_a.pk])}"' in html


def test_the_add_link_is_disabled_with_the_reason_when_there_is_no_room(client_for, extension_a):
    add(extension_a, "1234")
    license = get_license()
    license.max_active_callerids = 1
    license.save()
    html = client_for("reseller_a").get(url(extension_a)).content.decode()
    assert f'href="{reverse("callerids:add", args=[extension_a.pk])}"' not in html
    assert 'aria-disabled="true">Add authorized CallerIDs' in html
    assert "No license room left: You can add 0 more." in html


def test_the_add_link_is_disabled_for_an_admin_when_the_resellers_share_is_used(
    client_for, extension_a, reseller_a
):
    add(extension_a, "1234")
    reseller_a.max_active_callerids = 1
    reseller_a.save(update_fields=["max_active_callerids"])
    html = client_for("admin").get(url(extension_a)).content.decode()
    assert "No license room left: the share of Reseller A is used up." in html


def test_the_search_matches_any_part_of_the_number(client_for, extension_a):
    add(extension_a, "1234567", "7654321", "5551234")
    html = client_for("reseller_a").get(url(extension_a, "q=1234")).content.decode()
    assert sorted(numbers(html)) == ["1234567", "5551234"]
    assert 'value="1234"' in html  # the box keeps what was searched


def test_removed_callerids_are_hidden_unless_asked_for(client_for, extension_a):
    kept, gone = add(extension_a, "1111", "2222")
    remove_callerid(actor=SYSTEM, callerid=gone)
    client = client_for("reseller_a")
    assert numbers(client.get(url(extension_a)).content.decode()) == ["1111"]
    html = client.get(url(extension_a, "status=removed")).content.decode()
    assert numbers(html) == ["2222"]
    row = html.split(f'data-callerid="{gone.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Removed" in row
    assert 'name="ids"' not in row and "formaction" not in row
    assert "data-select-all" not in html and "Remove selected" not in html
    assert f'href="{reverse("credit:callerid_credit", args=[gone.pk])}"' in row


def test_the_status_filter_shows_disabled_ones(client_for, extension_a):
    on, off = add(extension_a, "1111", "2222")
    disable_callerid(actor=SYSTEM, callerid=off)
    html = client_for("reseller_a").get(url(extension_a, "status=disabled")).content.decode()
    assert numbers(html) == ["2222"]


@pytest.mark.parametrize(
    "credit, expected",
    [("unlimited", ["3333"]), ("has_credit", ["1111"]), ("no_credit", ["2222"])],
)
def test_the_credit_filter(client_for, extension_a, credit, expected):
    add(extension_a, "1111", credit=Decimal("5"))
    add(extension_a, "2222", credit=Decimal("0"))
    add(extension_a, "3333", unlimited=True)
    html = client_for("reseller_a").get(url(extension_a, f"credit={credit}")).content.decode()
    assert numbers(html) == expected


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("number", ["1111", "2222", "3333"]),
        ("-number", ["3333", "2222", "1111"]),
        ("total", ["2222", "1111", "3333"]),
        ("-available", ["3333", "1111", "2222"]),
        ("created", ["2222", "3333", "1111"]),
    ],
)
def test_sorting_uses_the_same_order_as_the_export(client_for, extension_a, sort, expected):
    add(extension_a, "2222", credit=Decimal("1"))
    add(extension_a, "3333", unlimited=True)
    add(extension_a, "1111", credit=Decimal("9"))
    html = client_for("reseller_a").get(url(extension_a, f"sort={sort}")).content.decode()
    assert numbers(html) == expected


def test_bad_search_parameters_do_not_break_the_page(client_for, extension_a):
    add(extension_a, "1234")
    query = "status=nonsense&credit=x&sort=nope&page=abc&q=" + "9" * 40
    assert client_for("reseller_a").get(url(extension_a, query)).status_code == 200


def test_it_shows_50_rows_a_page_and_pages_keep_the_search(client_for, extension_a):
    bulk_rows(extension_a, 120)
    client = client_for("reseller_a")
    html = client.get(url(extension_a, "status=disabled&q=100")).content.decode()
    assert len(numbers(html)) == 50
    assert "status=disabled" in html.split('class="pagination', 1)[1]
    page3 = client.get(url(extension_a, "status=disabled&q=100&page=3")).content.decode()
    assert len(numbers(page3)) == 20
    past = client.get(url(extension_a, "status=disabled&q=100&page=99")).content.decode()
    assert len(numbers(past)) == 20


def test_the_export_buttons_keep_the_current_search(client_for, extension_a):
    html = client_for("staff_a").get(url(extension_a, "q=12&status=disabled&page=2")).content
    html = html.decode().replace("&amp;", "&")
    assert "Export to Excel" in html and "Export to CSV" in html
    xlsx = re.search(r'href="(/exports/callerids\.xlsx\?[^"]+)"', html).group(1)
    assert "q=12" in xlsx and "status=disabled" in xlsx and f"extension={extension_a.pk}" in xlsx
    assert "page=" not in xlsx
    assert client_for("staff_a").get(xlsx).status_code == 200


def _page_queries(client, extension) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(extension, "status=disabled")).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows(client_for, extension_a, extension_b):
    bulk_rows(extension_a, 10)
    bulk_rows(extension_b, 1000)
    client = client_for("admin")
    _page_queries(client, extension_a)  # warm the license and preferences rows
    assert _page_queries(client, extension_a) == _page_queries(client, extension_b)


def test_the_page_takes_a_bounded_number_of_queries(
    client_for, extension_a, django_assert_max_num_queries
):
    add(extension_a, "1234")
    bulk_rows(extension_a, 60)
    client = client_for("reseller_a")
    client.get(url(extension_a))
    with django_assert_max_num_queries(12):
        client.get(url(extension_a))


def test_another_resellers_callerids_never_appear(client_for, extension_a, extension_b):
    add(extension_b, "9999")
    html = client_for("admin").get(url(extension_a)).content.decode()
    assert "9999" not in html


def test_a_pin_lock_names_the_limit_it_happened_at_not_todays_setting(client_for, extension_a):
    extension_a.pin_lock_limit = 3
    extension_a.save()
    callerid = add(extension_a, "1234", pin="1111")[0]
    pbx = ApiClient(create_token(actor=SYSTEM, name="pbx", reseller=None).plaintext)
    answers = [
        pbx.post("/callback/verify-pin", {"callerid_id": callerid.pk, "pin": "9999"})[1]["result"]
        for _ in range(3)
    ]
    assert answers == ["pin_invalid", "pin_invalid", "locked"]
    client = client_for("reseller_a")
    setup = client.get(reverse("callback:extension_edit", args=[extension_a.pk]))
    data = form_values(setup.content.decode(), "extension-form")
    data["pin_lock_limit"] = "7"
    saved = client.post(reverse("callback:extension_edit", args=[extension_a.pk]), data)
    assert saved.status_code == 302
    extension_a.refresh_from_db()
    assert extension_a.pin_lock_limit == 7
    listed = client.get(url(extension_a)).content.decode()
    edited = client.get(reverse("callerids:edit", args=[callerid.pk])).content.decode()
    for html in (listed, edited):
        assert "Locked after 3 wrong PINs" in html
        assert "Locked after 7" not in html
