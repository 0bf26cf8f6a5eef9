"""Recharges through the provisioning API (SPEC §13 → §6's table and messages), their
history, Idempotency-Key, and what the credit page shows of them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from api.models import IdempotencyKey
from callerids.models import AuthorizedCallerID
from credit.models import LedgerEntry, LedgerKind
from tenancy.models import AuditEvent
from tests.api.provisioning_support import BOTH, Api, callerid, token

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def target(preferences, extension_a):
    return callerid(extension_a, credit=D("10"))


@pytest.fixture
def api_a(reseller_a, preferences):
    return Api(token(reseller=reseller_a, name="shop-a"))


def recharges(api, target, body, **kw):
    return api.post(f"/callerids/{target.pk}/recharges", body, **kw)


def test_a_recharge_adds_credit_and_answers_the_row_and_the_balance(api_a, target):
    status, body = recharges(api_a, target, {"amount": "5.50", "order_number": "WEB-1"})
    assert status == 201, body
    assert body["recharge"]["kind"] == "recharge"
    assert body["recharge"]["amount"] == "5.5000"
    assert body["recharge"]["balance_after"] == "15.5000"
    assert body["recharge"]["order_number"] == "WEB-1"
    assert body["recharge"]["added_by"] == "token:shop-a"
    assert body["credit"] == {
        "unlimited": False,
        "available": "15.5000",
        "total": "15.5000",
        "held": "0.0000",
        "currency": "EUR",
    }
    event = AuditEvent.objects.get(action="credit.recharge")
    assert (event.actor_token.name, event.after["amount"]) == ("shop-a", "5.5000")


# SPEC §6's table: (state, what is sent, answer, kind / message)
TABLE = [
    ("limited", {"amount": "-4"}, 201, "adjustment"),
    ("limited", {"amount": -4}, 201, "adjustment"),
    ("limited", {"amount": "-10.01"}, 422, "At most 10.00 EUR can be removed."),
    ("limited", {"unlimited": True}, 201, "set_unlimited"),
    ("unlimited", {"amount": "-3"}, 201, "set_limited"),
    (
        "unlimited",
        {"amount": "3"},
        422,
        "Already unlimited; enter a negative amount to set a limit.",
    ),
    (
        "unlimited",
        {"unlimited": True},
        422,
        "Already unlimited; enter a negative amount to set a limit.",
    ),
    ("limited", {"amount": "0"}, 422, "Enter an amount other than 0, or tick Unlimited."),
    ("limited", {}, 422, "Enter an amount other than 0, or tick Unlimited."),
    (
        "limited",
        {"amount": "1", "unlimited": True},
        422,
        "Enter an amount or tick Unlimited, not both.",
    ),
    ("limited", {"amount": "1,5"}, 422, "Use a dot as the decimal separator."),
    ("limited", {"amount": "1.005"}, 422, "Use at most 2 decimals."),
    ("limited", {"amount": "1000001"}, 422, "One operation moves at most 1,000,000.00 EUR."),
    ("removed", {"amount": "1"}, 422, "This CallerID was removed."),
    ("disabled", {"amount": "1"}, 201, "recharge"),
]


@pytest.mark.parametrize(("state", "sent", "status", "outcome"), TABLE)
def test_the_credit_table(api_a, target, state, sent, status, outcome):
    if state == "unlimited":
        assert recharges(api_a, target, {"unlimited": True})[0] == 201
    if state == "removed":
        api_a.delete(f"/callerids/{target.pk}")
    if state == "disabled":
        api_a.patch(f"/callerids/{target.pk}", {"status": "disabled"})
    rows = LedgerEntry.objects.count()
    got_status, body = recharges(api_a, target, sent)
    assert got_status == status, body
    if status == 201:
        assert body["recharge"]["kind"] == outcome
        assert LedgerEntry.objects.count() == rows + 1
        if outcome == "set_limited":
            assert body["credit"] == {
                "unlimited": False,
                "available": "0.0000",
                "total": "0.0000",
                "held": "0.0000",
                "currency": "EUR",
            }
    else:
        assert body["error"] == "validation_failed"
        assert body["detail"] == outcome
        assert LedgerEntry.objects.count() == rows


def test_the_field_is_named_in_the_errors(api_a, target):
    _, body = recharges(api_a, target, {"amount": "-20"})
    assert body["errors"] == {"amount": ["At most 10.00 EUR can be removed."]}
    recharges(api_a, target, {"amount": "1", "order_number": "O-7"})
    _, body = recharges(api_a, target, {"amount": "1", "order_number": "O-7"})
    [message] = body["errors"]["order_number"]
    assert re.fullmatch(r"Order O-7 was already applied on \d{4}-\d\d-\d\d\.", message)


def test_unlimited_needs_the_right(preferences, extension_b, reseller_b):
    other = callerid(extension_b, credit=D("1"))
    api = Api(token(reseller=reseller_b))  # reseller B may not grant Unlimited
    status, body = recharges(api, other, {"unlimited": True})
    assert (status, body["error"]) == (403, "not_permitted")
    assert (
        Api(token(permissions=BOTH, name="srv")).post(
            f"/callerids/{other.pk}/recharges", {"unlimited": True}
        )[0]
        == 201
    )


def test_the_history_lists_the_ledger_without_calls(api_a, target):
    recharges(api_a, target, {"amount": "2", "order_number": "A"})
    recharges(api_a, target, {"amount": "-1"})
    status, body = api_a.get(f"/callerids/{target.pk}/recharges?limit=2")
    assert status == 200
    assert [r["kind"] for r in body["results"]] == ["initial", "recharge"]
    status, body = api_a.get(f"/callerids/{target.pk}/recharges?cursor={body['next']}")
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in body["results"]] == [
        ("adjustment", "-1.0000", "11.0000")
    ]
    assert body["next"] is None


def test_a_recharge_through_the_api_shows_on_the_credit_page(api_a, target, client_for):
    status, _ = recharges(api_a, target, {"amount": "7.25", "order_number": "SHOP-42"})
    assert status == 201
    page = client_for("reseller_a").get(reverse("credit:callerid_credit", args=[target.pk]))
    assert page.status_code == 200
    html = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    row = re.search(r"SHOP-42 (.*?)token:shop-a", html)
    assert row is not None, html
    assert "7.25" in row.group(1)
    assert "17.25" in row.group(1)


# --- Idempotency-Key --------------------------------------------------------------------


def test_the_same_key_and_body_answer_the_first_response_and_apply_once(api_a, target):
    first = recharges(api_a, target, {"amount": "5"}, key="k-1")
    again = recharges(api_a, target, {"amount": "5"}, key="k-1")
    assert first == again
    assert first[0] == 201
    assert LedgerEntry.objects.filter(kind=LedgerKind.RECHARGE).count() == 1
    assert AuditEvent.objects.filter(action="credit.recharge").count() == 1
    target.refresh_from_db()
    assert target.available == D("15")


def test_the_same_key_with_another_body_is_409(api_a, target):
    recharges(api_a, target, {"amount": "5"}, key="k-1")
    status, body = recharges(api_a, target, {"amount": "6"}, key="k-1")
    assert (status, body["error"]) == (409, "idempotency_conflict")
    status, body = api_a.patch(f"/callerids/{target.pk}", {"pin": "1234"}, key="k-1")
    assert (status, body["error"]) == (409, "idempotency_conflict")
    target.refresh_from_db()
    assert (target.available, target.has_pin) == (D("15"), False)


def test_keys_belong_to_their_token(api_a, target):
    other = Api(token(permissions=BOTH, name="srv"))
    assert recharges(api_a, target, {"amount": "5"}, key="k-1")[0] == 201
    assert recharges(other, target, {"amount": "6"}, key="k-1")[0] == 201
    target.refresh_from_db()
    assert target.available == D("21")


def test_a_refused_write_keeps_no_key(api_a, target):
    status, _ = recharges(api_a, target, {"amount": "-50"}, key="k-2")
    assert status == 422
    assert not IdempotencyKey.objects.exists()
    assert recharges(api_a, target, {"amount": "-5"}, key="k-2")[0] == 201


def test_every_write_accepts_a_key(api_a, target):
    body = {"callerids": [{"number": "555"}]}
    first = api_a.post("/extensions/0003*001/callerids", body, key="add-1")
    assert api_a.post("/extensions/0003*001/callerids", body, key="add-1") == first
    assert AuthorizedCallerID.objects.filter(number="555").count() == 1
    first = api_a.patch(f"/callerids/{target.pk}", {"status": "disabled"}, key="p-1")
    api_a.patch(f"/callerids/{target.pk}", {"status": "enabled"})
    # The replay answers what the first PATCH answered and changes nothing now.
    assert api_a.patch(f"/callerids/{target.pk}", {"status": "disabled"}, key="p-1") == first
    target.refresh_from_db()
    assert target.status == "enabled"
    first = api_a.delete(f"/callerids/{target.pk}", key="d-1")
    assert first[0] == 200
    assert api_a.delete(f"/callerids/{target.pk}", key="d-1") == first


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
def test_a_bad_key_is_422(api_a, target, key):
    status, body = recharges(api_a, target, {"amount": "5"}, key=key)
    assert (status, body["error"]) == (422, "validation_failed")
    assert "Idempotency-Key" in body["errors"]
