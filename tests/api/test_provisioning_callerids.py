"""The provisioning API's CallerID endpoints (SPEC §13): the add form's rules on up to
1,000 rows, all or none, per-row errors; edit, remove; lists with the list page's search
and cursor pagination."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import get_license
from credit.models import LedgerEntry, LedgerKind
from tenancy.models import AuditEvent
from tests.api.provisioning_support import Api, callerid, token

pytestmark = pytest.mark.django_db

EXT = "/extensions/0003*001/callerids"


@pytest.fixture
def api_a(preferences, extension_a, reseller_a):
    return Api(token(reseller=reseller_a, name="shop-a"))


@pytest.fixture
def api_b(preferences, extension_b, reseller_b):
    return Api(token(reseller=reseller_b, name="shop-b"))


def check_ledger_clean():
    out = StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


# --- bulk create ------------------------------------------------------------------------


def test_bulk_create_adds_every_row_with_ledger_and_audit(api_a):
    rows = [
        {"number": "0721 000 123", "pin": "1234", "initial_credit": "12.50", "order_number": "O-1"},
        {"number": "1234"},
        {"number": "+40721000124", "unlimited": True},
        {"number": "+40721000125", "initial_credit": 3},
    ]
    status, body = api_a.post(EXT, {"callerids": rows})
    assert status == 201, body
    got = [(c["number"], c["pin"], c["unlimited"], c["available"]) for c in body["callerids"]]
    assert got == [
        ("+40721000123", True, False, "12.5000"),
        ("1234", False, False, "0.0000"),
        ("+40721000124", False, True, None),
        ("+40721000125", False, False, "3.0000"),
    ]
    assert all(c["status"] == "enabled" and c["extension"] == "0003*001" for c in body["callerids"])
    ids = [c["id"] for c in body["callerids"]]
    initial = LedgerEntry.objects.filter(callerid_id__in=ids, kind=LedgerKind.INITIAL)
    assert initial.count() == 4
    first = initial.get(callerid_id=ids[0])
    assert (first.order_number, first.actor_username) == ("O-1", "token:shop-a")
    events = AuditEvent.objects.filter(action="callerid.add")
    assert events.count() == 4
    assert {e.actor_token.name for e in events} == {"shop-a"}
    assert get_license().active_callerids == 4
    assert "OK" in check_ledger_clean()


def test_bad_rows_answer_422_with_per_row_fields_and_save_nothing(api_a, extension_a):
    callerid(extension_a, "+40721000999")
    rows = [
        {"number": "+40721000123"},
        {"number": "abc", "pin": "12"},
        {"number": "+40721000123"},
        {"number": "+40721000999"},
        {"number": "+40721000126", "initial_credit": "1,5"},
        {"number": "+40721000127", "initial_credit": "1.555"},
        {"number": "+40721000128", "initial_credit": "5", "unlimited": True},
        {"number": "+40721000129", "order_number": "x" * 65},
    ]
    status, body = api_a.post(EXT, {"callerids": rows})
    assert status == 422
    assert body["error"] == "validation_failed"
    errors = body["errors"]
    assert set(errors) == {
        "callerids.1.number",
        "callerids.1.pin",
        "callerids.2.number",
        "callerids.3.number",
        "callerids.4.initial_credit",
        "callerids.5.initial_credit",
        "callerids.6.initial_credit",
        "callerids.7.order_number",
    }
    assert errors["callerids.1.pin"] == ["A PIN has 4 to 10 digits."]
    assert errors["callerids.2.number"] == ["+40721000123 is also on row 1 of this form."]
    assert "already on this extension" in errors["callerids.3.number"][0]
    assert errors["callerids.4.initial_credit"] == ["Use a dot as the decimal separator."]
    assert errors["callerids.5.initial_credit"] == ["Use at most 2 decimals."]
    assert errors["callerids.6.initial_credit"] == ["Enter an amount or tick Unlimited, not both."]
    assert AuthorizedCallerID.objects.count() == 1


def test_shape_errors_answer_422_by_field(api_a):
    status, body = api_a.post(EXT, {"callerids": [{"pin": "1234"}, {"number": 5}]})
    assert status == 422
    assert set(body["errors"]) == {"callerids.0.number", "callerids.1.number"}
    status, body = api_a.post(EXT, {"callerids": []})
    assert (status, body["error"]) == (422, "validation_failed")
    status, body = api_a.post(EXT, {"callerids": [{"number": "1", "initial_credit": 1.5}]})
    assert status in (201, 422)  # a JSON number is read exactly (no float)
    status, body = api_a.call("POST", EXT, raw="{not json")
    assert (status, body["error"]) == (400, "malformed")


def test_more_than_1000_rows_are_refused(api_a):
    rows = [{"number": f"+4072100{i:04d}"} for i in range(1001)]
    status, body = api_a.post(EXT, {"callerids": rows})
    assert (status, body["error"]) == (422, "validation_failed")
    assert AuthorizedCallerID.objects.count() == 0


def test_1000_rows_are_added_at_once(api_a, django_assert_max_num_queries):
    rows = [{"number": f"+4072100{i:04d}", "pin": "1234"} for i in range(1000)]
    # A few multi-row INSERTs: SQLite splits them by its 999 parameters, PostgreSQL not.
    with django_assert_max_num_queries(60):
        status, body = api_a.post(EXT, {"callerids": rows})
    assert status == 201
    assert len(body["callerids"]) == 1000
    assert AuthorizedCallerID.objects.count() == 1000
    assert LedgerEntry.objects.count() == 1000
    assert get_license().active_callerids == 1000


def test_unlimited_needs_the_right(api_b, api_a):
    status, body = api_b.post(
        "/extensions/0004*001/callerids", {"callerids": [{"number": "123", "unlimited": True}]}
    )
    assert (status, body["error"]) == (403, "not_permitted")
    assert body["detail"] == "You may not grant Unlimited credit."
    # Reseller A may grant Unlimited (conftest), so its token may too.
    status, _ = api_a.post(EXT, {"callerids": [{"number": "123", "unlimited": True}]})
    assert status == 201


def test_no_license_room_is_409_license_exceeded(api_a):
    get_license()
    License.objects.update(max_active_callerids=2)
    rows = [{"number": n} for n in ("111", "222", "333")]
    status, body = api_a.post(EXT, {"callerids": rows})
    assert (status, body["error"]) == (409, "license_exceeded")
    assert body["detail"] == "Adding 3 would exceed the license by 1."
    assert AuthorizedCallerID.objects.count() == 0


def test_the_resellers_share_is_checked(api_a, reseller_a):
    reseller_a.max_active_callerids = 1
    reseller_a.save()
    status, body = api_a.post(EXT, {"callerids": [{"number": "111"}, {"number": "222"}]})
    assert (status, body["error"]) == (409, "license_exceeded")
    assert "share of the license of Reseller A" in body["detail"]


def test_an_unknown_extension_is_404(api_a):
    status, body = api_a.post("/extensions/999/callerids", {"callerids": [{"number": "111"}]})
    assert (status, body["error"]) == (404, "unknown_extension")


# --- read, edit, remove -----------------------------------------------------------------


def test_get_shows_a_callerid_removed_ones_too(api_a, extension_a):
    target = callerid(extension_a, pin="1234")
    status, body = api_a.get(f"/callerids/{target.pk}")
    assert status == 200
    assert body["number"] == "+40721000123"
    assert body["pin"] is True
    assert (body["available"], body["total"]) == ("10.0000", "10.0000")
    api_a.delete(f"/callerids/{target.pk}")
    status, body = api_a.get(f"/callerids/{target.pk}")
    assert (status, body["status"]) == (200, "removed")
    assert body["removed_at"] is not None


def test_patch_changes_only_what_is_sent(api_a, extension_a):
    target = callerid(extension_a, pin="1234")
    status, body = api_a.patch(f"/callerids/{target.pk}", {"number": "0721 000 555"})
    assert status == 200, body
    assert (body["number"], body["pin"], body["status"]) == ("+40721000555", True, "enabled")
    status, body = api_a.patch(f"/callerids/{target.pk}", {"pin": None})
    assert (status, body["pin"]) == (200, False)
    status, body = api_a.patch(f"/callerids/{target.pk}", {"pin": "5678", "status": "disabled"})
    assert (body["pin"], body["status"]) == (True, "disabled")
    assert get_license().active_callerids == 0
    assert AuditEvent.objects.filter(action="callerid.update").count() == 3


def test_patch_refusals_answer_422_by_field(api_a, extension_a):
    target = callerid(extension_a)
    callerid(extension_a, "+40721000999")
    cases = [
        ({"number": "+40721000999"}, "number", "already on this extension"),
        ({"number": "abc"}, "number", ""),
        ({"pin": "12"}, "pin", "A PIN has 4 to 10 digits."),
        ({"number": None}, "number", ""),
        ({"status": None}, "status", ""),
        ({"status": "removed"}, "status", ""),
    ]
    for patch, field, message in cases:
        status, body = api_a.patch(f"/callerids/{target.pk}", patch)
        assert (status, body["error"]) == (422, "validation_failed"), patch
        assert field in body["errors"], body
        assert message in " ".join(body["errors"][field])
    target.refresh_from_db()
    assert target.number == "+40721000123"


def test_enabling_without_room_is_409(api_a, extension_a):
    target = callerid(extension_a)
    api_a.patch(f"/callerids/{target.pk}", {"status": "disabled"})
    License.objects.update(max_active_callerids=0)
    status, body = api_a.patch(f"/callerids/{target.pk}", {"status": "enabled"})
    assert (status, body["error"]) == (409, "license_exceeded")
    assert body["detail"] == "Enabling 1 would exceed the license by 1."


def test_delete_removes_once(api_a, extension_a):
    target = callerid(extension_a)
    status, body = api_a.delete(f"/callerids/{target.pk}")
    assert (status, body["status"]) == (200, "removed")
    assert get_license().active_callerids == 0
    event = AuditEvent.objects.get(action="callerid.remove")
    assert event.actor_token is not None
    assert event.before["available"] == "10.0000"
    status, body = api_a.delete(f"/callerids/{target.pk}")
    assert (status, body["error"]) == (422, "validation_failed")
    assert body["detail"] == "This CallerID was removed."
    status, body = api_a.patch(f"/callerids/{target.pk}", {"pin": "1234"})
    assert body["detail"] == "This CallerID was removed."


# --- lists ------------------------------------------------------------------------------


def test_lists_page_with_a_cursor(api_a, extension_a):
    made = [callerid(extension_a, f"+4072100{i:04d}").pk for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        status, body = api_a.get(f"{EXT}?limit=2{suffix}")
        assert status == 200
        seen += [c["id"] for c in body["results"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert (seen, pages) == (made, 3)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "cursor=!!", "cursor=MA", "status=x"])
def test_bad_list_parameters_are_422(api_a, query):
    status, body = api_a.get(f"{EXT}?{query}")
    assert (status, body["error"]) == (422, "validation_failed")


def test_the_list_searches_like_the_list_page(api_a, extension_a):
    rich = callerid(extension_a, "+40721000123", credit=Decimal("5"))
    poor = callerid(extension_a, "+40731000456", credit=Decimal("0"))
    free = callerid(extension_a, "1234", unlimited=True)
    gone = callerid(extension_a, "+40741000789")
    api_a.delete(f"/callerids/{gone.pk}")

    def ids(query):
        status, body = api_a.get(f"{EXT}?{query}")
        assert status == 200
        return [c["id"] for c in body["results"]]

    assert ids("") == [rich.pk, poor.pk, free.pk]
    assert ids("q=0721") == [rich.pk]
    assert ids("q=731-000") == [poor.pk]
    assert ids("status=removed") == [gone.pk]
    assert ids("credit=unlimited") == [free.pk]
    assert ids("credit=has_credit") == [rich.pk]
    assert ids("credit=no_credit") == [poor.pk]


def test_list_extensions_pages(preferences, org_a):
    from callback.models import CallbackExtension

    for i in range(3):
        CallbackExtension.objects.create(organization=org_a, number=f"10{i}")
    api = Api(token(name="server"))
    status, body = api.get("/extensions?limit=2")
    assert [e["number"] for e in body["results"]] == ["100", "101"]
    status, body = api.get(f"/extensions?limit=2&cursor={body['next']}")
    assert ([e["number"] for e in body["results"]], body["next"]) == (["102"], None)
    assert body["results"][0]["reseller"] == "Reseller A"


def test_a_list_costs_a_bounded_number_of_queries(
    api_a, extension_a, django_assert_max_num_queries
):
    for i in range(30):
        callerid(extension_a, f"+4072100{i:04d}")
    with django_assert_max_num_queries(5):
        status, body = api_a.get(f"{EXT}?limit=500")
    assert (status, len(body["results"])) == (200, 30)
    target = AuthorizedCallerID.objects.first()
    with django_assert_max_num_queries(5):
        assert api_a.get(f"/callerids/{target.pk}/recharges")[0] == 200


def test_status_values_match_the_model():
    assert {"enabled", "disabled", "removed"} == set(CallerIDStatus.values)
