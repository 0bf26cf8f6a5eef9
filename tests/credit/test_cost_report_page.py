"""The cost report page: who sees it, the form and its filters, the table, totals, chart,
and a query count that does not grow with the calls."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import Call
from tenancy.models import ChargingPreferences
from tenancy.preferences import get_preferences
from tests.credit.test_cost_report_selectors import call, make_callerid

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


def url(extension, **params) -> str:
    base = reverse("credit:cost_report", args=[extension.pk])
    if params:
        from urllib.parse import urlencode

        return f"{base}?{urlencode(params)}"
    return base


def table_rows(response) -> list[list[str]]:
    body = response.content.decode().split("<tbody >", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def total(response, name: str) -> str:
    match = re.search(rf'data-total="{name}">([^<]*)', response.content.decode())
    return match.group(1).strip()


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


def test_another_resellers_report_is_404_even_for_its_own_staff(client_for, extension_b):
    assert client_for("reseller_a").get(url(extension_b)).status_code == 404
    assert client_for("staff_a").get(url(extension_b)).status_code == 404
    assert client_for("reseller_b").get(url(extension_b)).status_code == 200


def test_an_unknown_extension_is_404(client_for, extension_a):
    assert client_for("admin").get("/extensions/999999/cost-report/").status_code == 404


def test_it_rejects_post(client_for, extension_a):
    assert client_for("admin").post(url(extension_a)).status_code == 405


def test_the_default_range_is_this_month_in_the_server_time_zone(client_for, extension_a):
    today = timezone.localdate()
    first = today.replace(day=1)
    response = client_for("staff_a").get(url(extension_a))
    assert response.context["report"].first_day == first
    assert response.context["report"].last_day.month == today.month
    assert (response.context["report"].last_day + dt.timedelta(days=1)).day == 1
    assert f'value="{first.isoformat()}"' in response.content.decode()


def test_quick_picks_link_today_this_month_and_last_month(client_for, extension_a):
    cid = make_callerid(extension_a)
    response = client_for("admin").get(url(extension_a, callerid=cid.pk, **NOV))
    links = dict(response.context["quick_picks"])
    today = timezone.localdate()
    this_first = today.replace(day=1)
    last_last = this_first - dt.timedelta(days=1)
    assert f"from={today}&to={today}" in links["Today"]
    assert f"from={this_first}" in links["This month"]
    assert f"from={last_last.replace(day=1)}&to={last_last}" in links["Last month"]
    # The CallerID filter survives a quick pick.
    assert all(f"callerid={cid.pk}" in link for link in links.values())


def test_it_shows_the_rows_with_server_time_formatted_amounts_and_metered(client_for, extension_a):
    prefs = get_preferences()
    prefs.decimals, prefs.currency = 3, "RON"
    prefs.save()
    cid = make_callerid(extension_a, "+40721000123")
    # 22:30 UTC on 10 Nov is 00:30 on 11 Nov in Bucharest.
    when = dt.datetime(2026, 11, 10, 22, 30, 5, tzinfo=UTC)
    call(extension_a, when, callerid=cid, cost="1.2345", duration=3725,
         destination="+4031000000")  # fmt: skip
    call(extension_a, when + dt.timedelta(minutes=1), cost="0.5000", caller_id="0721 555 555",
         duration=59)  # fmt: skip
    with override_settings(TIME_ZONE="Europe/Bucharest"):
        response = client_for("admin").get(url(extension_a, **NOV))
    assert response.status_code == 200
    assert table_rows(response) == [
        ["2026-11-11 00:30:05", "+40721000123", "+4031000000", "1:02:05", "1.235", "1.235",
         "0.000", "Yes"],
        ["2026-11-11 00:31:05", "0721 555 555", "+4031000000", "0:00:59", "0.500", "0.000",
         "0.000", "No"],
    ]  # fmt: skip
    assert "(amounts in RON)" in response.content.decode()


def test_totals_show_metered_and_unmetered_apart(client_for, extension_a):
    cid = make_callerid(extension_a)
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    call(extension_a, when, callerid=cid, cost="2.0000", charged="1.2500", shortfall="0.7500",
         duration=90)  # fmt: skip
    call(extension_a, when, callerid=cid, cost="1.0000", duration=60)
    call(extension_a, when, cost="0.3000", duration=3600)
    response = client_for("admin").get(url(extension_a, **NOV))
    assert total(response, "calls") == "2"
    assert total(response, "minutes") == "2.5"
    assert total(response, "cost") == "3.00 EUR"
    assert total(response, "charged") == "2.25 EUR"
    assert total(response, "shortfall") == "0.75 EUR"
    assert total(response, "unmetered_calls") == "1"
    assert total(response, "unmetered_minutes") == "60.0"
    assert total(response, "unmetered_cost") == "0.30 EUR"
    assert "(0:02:30)" in response.content.decode()


def test_the_chart_is_an_inline_svg_without_scripts(client_for, extension_a):
    call(extension_a, dt.datetime(2026, 11, 3, 12, tzinfo=UTC), cost="1.0000")
    response = client_for("admin").get(url(extension_a, **NOV))
    # Two drawings: the wide one, and the compact one phones get (a label a week).
    for size, last_label in (("wide", "30 Nov"), ("compact", "29 Nov")):
        chart = str(response.context["chart"][size])
        assert chart.startswith("<svg")
        assert "<script" not in chart
        assert not re.search(r"(src|href)=\"(https?:)?//", chart)  # nothing fetched from elsewhere
        assert "01 Nov" in chart and last_label in chart
        assert "Cost per day" in chart
    html = response.content.decode()
    assert 'class="d-none d-md-block"' in html and 'data-testid="cost-chart-compact"' in html


def test_the_c_link_filter_shows_only_that_callerids_calls(client_for, extension_a):
    mine = make_callerid(extension_a, "+40721000001")
    other = make_callerid(extension_a, "+40721000002")
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    call(extension_a, when, callerid=mine, cost="1.0000")
    call(extension_a, when, callerid=other, cost="2.0000")
    call(extension_a, when, cost="4.0000")
    response = client_for("reseller_a").get(url(extension_a, callerid=mine.pk, **NOV))
    assert [row[1] for row in table_rows(response)] == ["+40721000001"]
    assert total(response, "cost") == "1.00 EUR"
    assert total(response, "unmetered_calls") == "0"
    # The field the user can change shows the linked CallerID's number.
    assert response.context["form"]["number"].value() == "+40721000001"
    assert 'value="+40721000001"' in response.content.decode()


def test_the_c_link_alone_means_this_month(client_for, extension_a):
    mine = make_callerid(extension_a)
    response = client_for("admin").get(url(extension_a, callerid=mine.pk))
    assert response.status_code == 200
    assert response.context["report"].callerid == mine
    assert response.context["report"].first_day == timezone.localdate().replace(day=1)


def test_the_clear_link_drops_only_the_callerid(client_for, extension_a):
    mine = make_callerid(extension_a)
    response = client_for("admin").get(url(extension_a, callerid=mine.pk, **NOV))
    clear = response.context["clear_callerid_url"]
    assert "callerid" not in clear
    assert "from=2026-11-01" in clear and "to=2026-11-30" in clear
    assert "Clear CallerID filter" in response.content.decode()
    assert "Clear CallerID filter" not in client_for("admin").get(url(extension_a)).content.decode()


def test_removed_callerids_calls_still_appear_and_can_be_filtered(client_for, extension_a):
    gone = make_callerid(extension_a, "+40721000009", status=CallerIDStatus.REMOVED)
    call(extension_a, dt.datetime(2026, 11, 10, tzinfo=UTC), callerid=gone)
    response = client_for("admin").get(url(extension_a, **NOV))
    assert [row[1] for row in table_rows(response)] == ["+40721000009"]
    typed = client_for("admin").get(url(extension_a, number="+40721000009", **NOV))
    assert [row[1] for row in table_rows(typed)] == ["+40721000009"]
    assert "(removed)" in typed.content.decode()
    filtered = client_for("admin").get(url(extension_a, callerid=gone.pk, **NOV))
    assert [row[1] for row in table_rows(filtered)] == ["+40721000009"]


@pytest.mark.parametrize("value", ["other-extension", "999999", "abc", "1.5", ""])
def test_a_callerid_that_is_not_this_extensions_is_404(client_for, extension_a, extension_b,
                                                        value):  # fmt: skip
    foreign = make_callerid(extension_b)
    if value == "other-extension":
        value = str(foreign.pk)
    response = client_for("admin").get(url(extension_a, callerid=value, **NOV))
    if value == "":
        assert response.status_code == 200  # an empty choice is "All CallerIDs"
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01", "to": "2026-11-30"}, "from", "Enter a valid date."),
        ({"from": "yesterday"}, "from", "Enter a valid date."),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to", "must not be before"),
        ({"from": "2024-01-01", "to": "2026-11-30"}, "to", "at most 366 days"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "from", "Choose a date between"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "from", "Choose a date between"),
    ],
)
def test_bad_dates_show_an_error_next_to_the_field(client_for, extension_a, params, field,
                                                   message):  # fmt: skip
    response = client_for("admin").get(url(extension_a, **params))
    assert response.status_code == 200
    assert response.context["report"] is None
    assert any(message in error for error in response.context["form"].errors[field])
    assert "Correct the dates above" in response.content.decode()
    assert "invalid-feedback" in response.content.decode()


def test_one_date_alone_means_the_rest_of_its_month(client_for, extension_a):
    response = client_for("admin").get(url(extension_a, **{"from": "2026-02-10"}))
    assert (response.context["report"].first_day, response.context["report"].last_day) == (
        dt.date(2026, 2, 10),
        dt.date(2026, 2, 28),
    )
    response = client_for("admin").get(url(extension_a, to="2026-02-10"))
    assert (response.context["report"].first_day, response.context["report"].last_day) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 10),
    )


def test_sorting_by_cost_and_bad_sort_or_page_values_do_no_harm(client_for, extension_a):
    for n, cost in enumerate(["3.0000", "1.0000", "2.0000"]):
        call(extension_a, dt.datetime(2026, 11, 10, n, tzinfo=UTC), cost=cost)
    client = client_for("admin")
    by_cost = client.get(url(extension_a, sort="-cost", **NOV))
    assert [row[4] for row in table_rows(by_cost)] == ["3.00", "2.00", "1.00"]
    for params in ({"sort": "nonsense"}, {"page": "abc"}, {"page": "99"}, {"page": "-1"},
                   {"per_page": "100000"}):  # fmt: skip
        assert client.get(url(extension_a, **params, **NOV)).status_code == 200


def test_fifty_rows_a_page_whatever_per_page_asks(client_for, extension_a):
    start = dt.datetime(2026, 11, 10, tzinfo=UTC)
    Call.objects.bulk_create(
        call(extension_a, start + dt.timedelta(minutes=n), save=False) for n in range(60)
    )
    client = client_for("admin")
    assert len(table_rows(client.get(url(extension_a, per_page="1000", **NOV)))) == 50
    assert len(table_rows(client.get(url(extension_a, page="2", **NOV)))) == 10


def _queries_for(client, extension, count: int) -> int:
    Call.objects.filter(extension=extension).delete()
    cid = extension.callerids.first()
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    Call.objects.bulk_create(
        (
            call(
                extension,
                start + dt.timedelta(minutes=17 * n),
                save=False,
                callerid=cid if n % 3 else None,
            )  # fmt: skip
            for n in range(count)
        ),
        batch_size=500,
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(extension, **NOV))
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_calls(
    client_for, extension_a, django_assert_max_num_queries
):
    make_callerid(extension_a)
    get_preferences()  # created once, on the first page ever shown
    client = client_for("staff_a")
    client.get(url(extension_a))  # the session and the user, as for every later page
    few = _queries_for(client, extension_a, 10)
    many = _queries_for(client, extension_a, 1000)
    assert few == many
    with django_assert_max_num_queries(10):
        client.get(url(extension_a, **NOV))


def test_the_callerid_filter_adds_one_query(client_for, extension_a, django_assert_max_num_queries):
    cid = make_callerid(extension_a)
    get_preferences()
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    Call.objects.bulk_create(
        call(extension_a, start + dt.timedelta(minutes=n), callerid=cid, save=False)
        for n in range(200)
    )
    client = client_for("reseller_a")
    client.get(url(extension_a))
    with django_assert_max_num_queries(11):
        assert client.get(url(extension_a, callerid=cid.pk, **NOV)).status_code == 200


# --- the CallerID filter is a typed number, not a list of every CallerID (issue 16 item 12) --


def test_the_callerid_field_lists_no_callerids(
    client_for, extension_a, django_assert_max_num_queries
):
    client = client_for("reseller_a")
    before = len(client.get(url(extension_a, **NOV)).content)
    AuthorizedCallerID.objects.bulk_create(
        AuthorizedCallerID(extension=extension_a, number=f"+4072100{n:04d}", available=1, total=1)
        for n in range(500)
    )
    with django_assert_max_num_queries(12):
        response = client.get(url(extension_a, **NOV))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<select" not in html and "<option" not in html
    assert "+40721000123" not in html and "+40721000499" not in html
    assert re.search(r'<input type="search" name="number"[^>]*inputmode="tel"', html)
    assert abs(len(html) - before) < 200  # the page does not grow with the CallerIDs


def test_a_typed_number_filters_the_report_as_the_user_writes_it(client_for, extension_a):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"default_country": "RO"})
    mine = make_callerid(extension_a, "+40721000001")
    other = make_callerid(extension_a, "+40721000002")
    when = dt.datetime(2026, 11, 10, tzinfo=UTC)
    call(extension_a, when, callerid=mine, cost="1.0000")
    call(extension_a, when, callerid=other, cost="2.0000")
    call(extension_a, when, cost="4.0000")
    client = client_for("reseller_a")
    for typed in ["+40721000001", "0721 000 001", "0040-721-000-001"]:
        response = client.get(url(extension_a, number=typed, **NOV))
        assert [row[1] for row in table_rows(response)] == ["+40721000001"], typed
        assert total(response, "cost") == "1.00 EUR"
        assert response.context["report"].callerid == mine
        assert "Clear CallerID filter" in response.content.decode()


def test_a_typed_number_covers_a_removed_callerid_and_the_one_that_replaced_it(
    client_for, extension_a
):
    gone = make_callerid(extension_a, "+40721000001", status=CallerIDStatus.REMOVED)
    current = make_callerid(extension_a, "+40721000001")
    call(extension_a, dt.datetime(2026, 11, 10, tzinfo=UTC), callerid=gone, cost="1.0000")
    call(extension_a, dt.datetime(2026, 11, 11, tzinfo=UTC), callerid=current, cost="2.0000")
    response = client_for("admin").get(url(extension_a, number="+40721000001", **NOV))
    assert total(response, "cost") == "3.00 EUR"
    assert response.context["report"].callerid == current


@pytest.mark.parametrize("typed", ["+40721000009", "abc", "1" * 41, "+40731000003"])
def test_a_typed_number_that_is_not_this_extensions_is_a_form_error(
    client_for, extension_a, extension_b, typed
):
    make_callerid(extension_a, "+40721000001")
    make_callerid(extension_b, "+40731000003")
    response = client_for("admin").get(url(extension_a, number=typed, **NOV))
    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors["number"]
    assert "<tbody" not in response.content.decode()  # no report, only the error
