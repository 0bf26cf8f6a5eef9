"""The credit management page (SPEC §6): who sees it, what it shows, the recharge history."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.services.callerids import remove_callerid
from credit.models import LedgerEntry, LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import ChargingPreferences
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


def make(extension, credit=None, unlimited=False, number="+40721000123", order=""):
    return factories.callerid(
        extension, number, credit=credit, unlimited=unlimited, order_number=order
    )


@pytest.fixture
def preferences(db):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})


@pytest.fixture
def callerid_a(extension_a, preferences):
    return make(extension_a, credit=D("10"), order="INIT-1")


@pytest.fixture
def callerid_b(extension_b, preferences):
    return make(extension_b, credit=D("5"), number="+40731000003")


def url(callerid):
    return reverse("credit:callerid_credit", args=[callerid.pk])


def text(response) -> str:
    """The page's visible text, tags stripped and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def post_data(response, **fields):
    """The Add credit form's fields as shown (its one-time key included), changed by fields."""
    key = response.context["form"]["one_time_key"].value()
    return {"amount": "", "order_number": "", "one_time_key": str(key), **fields}


# --- who may see and use it ------------------------------------------------------------

POST_STATUS = {
    "admin": 302,
    "reseller_a": 302,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize("role", POST_STATUS)
def test_only_admins_and_the_owning_reseller_may_add_credit(client_for, callerid_a, role):
    client = client_for(role)
    data = {
        "amount": "1",
        "order_number": "",
        "one_time_key": "7d9b5c1e-0000-4000-8000-000000000001",
    }
    response = client.post(url(callerid_a), data)
    assert response.status_code == POST_STATUS[role]
    callerid_a.refresh_from_db()
    expected = D("11") if POST_STATUS[role] == 302 and role != "anonymous" else D("10")
    assert callerid_a.available == expected
    if role == "anonymous":
        assert response.url.startswith(reverse("login"))


def test_another_resellers_callerid_is_not_found_for_reseller_a(client_for, callerid_b):
    assert client_for("reseller_a").get(url(callerid_b)).status_code == 404
    assert client_for("staff_a").get(url(callerid_b)).status_code == 404
    assert client_for("staff_server").get(url(callerid_b)).status_code == 200


def test_an_unknown_callerid_is_not_found(client_for, db):
    assert client_for("admin").get("/callerids/999999/credit/").status_code == 404


def test_staff_see_the_history_but_no_form(client_for, callerid_a):
    response = client_for("staff_a").get(url(callerid_a))
    assert response.context["form"] is None
    assert "Add credit" not in text(response)
    assert "INIT-1" in text(response)
    assert "Export to Excel" in text(response)


# --- what it shows ----------------------------------------------------------------------


def test_the_page_shows_title_credit_and_the_form(client_for, callerid_a):
    response = client_for("reseller_a").get(url(callerid_a))
    page = text(response)
    assert "Credit Management for CallerID +40721000123" in page
    assert 'data-testid="total-credit">10.00' in response.content.decode()
    assert 'data-testid="available-credit">10.00' in response.content.decode()
    assert "(currently 10.00 EUR left)" in page
    assert "Unlimited" in page  # reseller A may grant it
    for label in ("Add credit", "Order number", "OK", "Cancel"):
        assert label in page


def test_the_unlimited_option_is_hidden_without_the_right(client_for, reseller_a, callerid_a):
    reseller_a.may_grant_unlimited = False
    reseller_a.save()
    response = client_for("reseller_a").get(url(callerid_a))
    assert "unlimited" not in response.context["form"].fields
    assert 'name="unlimited"' not in response.content.decode()


def test_an_unlimited_callerid_shows_unlimited_credit(client_for, extension_a, preferences):
    callerid = make(extension_a, unlimited=True, number="5555")
    response = client_for("admin").get(url(callerid))
    page = text(response)
    assert "(currently Unlimited left)" in page
    row = LedgerEntry.objects.get(callerid=callerid)
    assert (row.amount, row.balance_after) == (None, None)
    assert "Unlimited Unlimited" in page


def test_amounts_follow_the_shown_decimals(client_for, callerid_a):
    ChargingPreferences.objects.filter(pk=1).update(decimals=4, currency="USD")
    page = text(client_for("admin").get(url(callerid_a)))
    assert "(currently 10.0000 USD left)" in page


def test_a_disabled_callerid_may_still_be_recharged(client_for, callerid_a):
    AuthorizedCallerID.objects.filter(pk=callerid_a.pk).update(status=CallerIDStatus.DISABLED)
    client = client_for("reseller_a")
    response = client.get(url(callerid_a))
    assert "Disabled" in text(response)
    response = client.post(url(callerid_a), post_data(response, amount="2"))
    assert response.status_code == 302
    callerid_a.refresh_from_db()
    assert callerid_a.available == D("12")


def test_a_removed_callerid_is_readable_without_the_form(client_for, callerid_a):
    remove_callerid(actor=SYSTEM, callerid=callerid_a)
    response = client_for("reseller_a").get(url(callerid_a))
    assert response.status_code == 200
    assert response.context["form"] is None
    page = text(response)
    assert "This CallerID was removed" in page
    assert 'name="amount"' not in response.content.decode()
    assert "INIT-1" in page
    assert "Export to CSV" in page


def test_a_post_to_a_removed_callerid_is_refused(client_for, callerid_a):
    client = client_for("reseller_a")
    form_page = client.get(url(callerid_a))
    remove_callerid(actor=SYSTEM, callerid=callerid_a)
    response = client.post(url(callerid_a), post_data(form_page, amount="5"))
    assert response.status_code == 200
    assert "This CallerID was removed." in text(response)
    assert response.context["form"].non_field_errors() == ["This CallerID was removed."]
    assert LedgerEntry.objects.filter(callerid=callerid_a).count() == 1


def test_the_cancel_button_goes_back_to_the_extension(client_for, callerid_a):
    response = client_for("reseller_a").get(url(callerid_a))
    assert response.context["cancel_url"] in (
        response.context["callerids_list_url"],
        reverse("callback:extension_detail", args=[callerid_a.extension_id]),
    )
    assert response.context["cancel_url"]


# --- the recharge history ----------------------------------------------------------------


def entry(callerid, kind, amount, balance, *, order="", by="alice", at=None):
    row = LedgerEntry.objects.create(
        callerid=callerid,
        kind=kind,
        amount=None if amount is None else D(amount),
        balance_after=None if balance is None else D(balance),
        order_number=order,
        actor_username=by,
    )
    if at is not None:
        LedgerEntry.objects.filter(pk=row.pk).update(created_at=at)
    return row


def history_rows(response):
    """(order, added, left, by) of each history row on the page, newest first."""
    return [
        (
            r.record.order_number,
            r.get_cell("amount"),
            r.get_cell("balance_after"),
            r.record.actor_username,
        )
        for r in response.context["table"].page.object_list
    ]


@pytest.fixture
def ledger(callerid_a):
    """initial 10 → 2 calls (−1.25, −0.75) → recharge 5 → 3 calls → set_unlimited → a call
    while unlimited → set_limited −10 → a call of 0 (nothing left)."""
    entry(callerid_a, LedgerKind.CALL, "-1.25", "8.75", by="")
    entry(callerid_a, LedgerKind.CALL, "-0.75", "8", by="")
    entry(callerid_a, LedgerKind.RECHARGE, "5", "13", order="R-2")
    for amount, left in (("-1", "12"), ("-0.0001", "11.9999"), ("-2.9999", "9")):
        entry(callerid_a, LedgerKind.CALL, amount, left, by="")
    entry(callerid_a, LedgerKind.SET_UNLIMITED, None, None, order="U-3", by="admin")
    entry(callerid_a, LedgerKind.CALL, "0", None, by="")
    entry(callerid_a, LedgerKind.SET_LIMITED, "-10", "0", order="L-4")
    entry(callerid_a, LedgerKind.CALL, "0", "0", by="")
    return callerid_a


def test_the_history_lists_every_row_but_calls_newest_first(client_for, ledger):
    response = client_for("reseller_a").get(url(ledger))
    assert history_rows(response) == [
        ("L-4", "-10.00", "0.00", "alice"),
        ("U-3", "Unlimited", "Unlimited", "admin"),
        ("R-2", "5.00", "13.00", "alice"),
        ("INIT-1", "10.00", "10.00", ""),
    ]


def test_a_line_between_rows_sums_the_calls_in_between(client_for, ledger):
    response = client_for("reseller_a").get(url(ledger))
    html = response.content.decode()
    lines = re.findall(r'data-testid="calls-between">\s*<td[^>]*>([^<]*)</td>', html)
    assert lines == [
        "calls: 0.0000 (1 call)",  # after L-4
        "calls: 0.0000 (1 call)",  # after U-3, while unlimited
        "calls: \u22124.0000 (3 calls)",  # after R-2
        "calls: \u22122.0000 (2 calls)",  # after the initial credit
    ]
    # Each line sits above the row it follows in time (newest first).
    assert html.index("\u22124.0000") < html.index(">R-2<") < html.index("\u22122.0000")


def test_the_history_is_paginated_by_25(client_for, callerid_a):
    for n in range(30):
        entry(callerid_a, LedgerKind.RECHARGE, "1", str(11 + n), order=f"P-{n:02d}")
    client = client_for("reseller_a")
    first = history_rows(client.get(url(callerid_a)))
    assert len(first) == 25 and first[0][0] == "P-29"
    second = history_rows(client.get(url(callerid_a), {"page": 2}))
    assert [row[0] for row in second] == ["P-04", "P-03", "P-02", "P-01", "P-00", "INIT-1"]
    assert history_rows(client.get(url(callerid_a), {"page": 99})) == second
    assert history_rows(client.get(url(callerid_a), {"page": "x"})) == first


def test_the_history_is_searchable_by_order_number_and_dates(client_for, callerid_a, settings):
    settings.TIME_ZONE = "Europe/Bucharest"
    utc = datetime.UTC
    entry(
        callerid_a,
        LedgerKind.RECHARGE,
        "1",
        "11",
        order="ABC-7",
        at=datetime.datetime(2026, 3, 1, 21, 30, tzinfo=utc),
    )  # 23:30 in Bucharest
    entry(
        callerid_a,
        LedgerKind.RECHARGE,
        "1",
        "12",
        order="XYZ-8",
        at=datetime.datetime(2026, 3, 1, 22, 30, tzinfo=utc),
    )  # 2 March in Bucharest
    client = client_for("reseller_a")
    found = history_rows(client.get(url(callerid_a), {"order_number": "abc"}))
    assert [row[0] for row in found] == ["ABC-7"]
    found = history_rows(
        client.get(url(callerid_a), {"date_from": "2026-03-01", "date_to": "2026-03-01"})
    )
    assert [row[0] for row in found] == ["ABC-7"]
    response = client.get(url(callerid_a), {"date_from": "2026-03-02"})
    assert [row[0] for row in history_rows(response)] == ["XYZ-8", "INIT-1"]
    # Date Added is shown in the server time zone.
    assert "2026-03-02 00:30" in text(response)


def test_a_bad_date_range_is_shown_next_to_the_search(client_for, callerid_a):
    response = client_for("reseller_a").get(
        url(callerid_a), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in text(response)
    response = client_for("reseller_a").get(url(callerid_a), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date." in text(response)


def test_the_export_buttons_keep_the_search(client_for, callerid_a):
    response = client_for("reseller_a").get(url(callerid_a), {"order_number": "INIT", "page": 1})
    html = response.content.decode().replace("&amp;", "&")
    export = reverse("exports:download", args=["recharge_history", "csv"])
    link = re.search(rf'href="({re.escape(export)}\?[^"]*)"', html).group(1)
    assert "order_number=INIT" in link and f"callerid={callerid_a.pk}" in link
    assert "page=" not in link
    download = client_for("reseller_a").get(link)
    assert download.status_code == 200
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "INIT-1" in content


# --- query count ------------------------------------------------------------------------


def fill_ledger(callerid, rows: int):
    """rows ledger rows made with the ORM: a recharge of 1 then two calls of 0.25, repeated;
    balances follow the ledger (SPEC §6.1)."""
    balance = callerid.available
    entries = []
    for n in range(rows):
        kind, amount = (
            (LedgerKind.RECHARGE, D("1")) if n % 3 == 0 else (LedgerKind.CALL, D("-0.25"))
        )
        balance += amount
        entries.append(
            LedgerEntry(
                callerid=callerid,
                kind=kind,
                amount=amount,
                balance_after=balance,
                order_number=f"Q-{n}" if kind == LedgerKind.RECHARGE else "",
                actor_username="alice" if kind == LedgerKind.RECHARGE else "",
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(available=balance, total=balance)


def count_queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("role", ["reseller_a", "staff_server"])
def test_the_page_makes_as_many_queries_for_10_as_for_1000_ledger_rows(
    client_for, extension_a, preferences, role, django_assert_max_num_queries
):
    small = make(extension_a, credit=D("10"), number="1111")
    large = make(extension_a, credit=D("10"), number="2222")
    fill_ledger(small, 9)
    fill_ledger(large, 999)
    client = client_for(role)
    client.get(url(small))  # the session, warmed
    few = count_queries(client, url(small))
    many = count_queries(client, url(large))
    assert few == many
    page2 = count_queries(client, url(large) + "?page=7")
    assert page2 == many
    with django_assert_max_num_queries(12):
        client.get(url(large) + "?order_number=Q-9&date_from=2020-01-01")


def test_the_calls_lines_of_a_large_ledger_add_up(client_for, extension_a, preferences):
    callerid = make(extension_a, credit=D("10"), number="3333")
    fill_ledger(callerid, 999)
    response = client_for("reseller_a").get(url(callerid))
    records = [r.record for r in response.context["table"].page.object_list]
    assert len(records) == 25
    for record in records:
        assert record.calls_after.count == 2
        assert record.calls_after.amount == D("-0.5")
