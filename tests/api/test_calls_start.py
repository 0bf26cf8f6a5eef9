"""POST /api/v1/calls/start (SPEC §11) and the settling of its hold by POST /api/v1/calls."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from callback.models import DestinationRules, ReturnMode
from callerids.models import CallerIDStatus
from credit.models import Call, CallHold, HoldStatus
from credit.services.holds import release_expired_holds
from tests.api.conftest import UNLIMITED, add_callerid

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"


def start_body(callerid, call_id="c1", **overrides):
    body = {
        "call_id": call_id,
        "extension": "0003*001",
        "callerid_id": callerid.pk if callerid is not None else None,
        "destination": "+4031000000",
        "rate_per_minute": "0.1000",
    }
    body.update(overrides)
    return body


def report_body(callerid, call_id="c1", **overrides):
    body = {
        "call_id": call_id,
        "extension": "0003*001",
        "callerid_id": callerid.pk if callerid is not None else None,
        "caller_id": CALLER,
        "destination": "+4031000000",
        "started_at": "2026-11-26T10:00:00Z",
        "duration_seconds": 60,
    }
    body.update(overrides)
    return body


@pytest.fixture
def one_euro(extension_a):
    return add_callerid(extension_a, CALLER, credit=Decimal("1.0000"))


def test_it_holds_what_the_time_limit_costs_and_answers_the_limit(server_api, one_euro):
    status, body = server_api.post("/calls/start", start_body(one_euro))
    assert (status, body) == (
        201,
        {
            "decision": "allow",
            "call_id": "c1",
            "max_duration_seconds": 600,
            "held": "1.0000",
            "available": "0.0000",
        },
    )
    hold = CallHold.objects.get(call_id="c1")
    assert (hold.status, hold.reserved, hold.callerid_id) == ("open", Decimal("1"), one_euro.pk)
    one_euro.refresh_from_db()
    assert one_euro.available == Decimal("1.0000")  # a hold is not money: no ledger row
    assert one_euro.ledger.count() == 1


def test_the_extension_maximum_caps_the_time_limit(server_api, extension_a, one_euro):
    extension_a.max_call_duration_seconds = 120
    extension_a.save()
    body = server_api.post("/calls/start", start_body(one_euro, connection_fee="0.05"))[1]
    # 0.05 + 0.10 × 2 minutes
    assert (body["max_duration_seconds"], body["held"], body["available"]) == (
        120,
        "0.2500",
        "0.7500",
    )


def test_a_connection_fee_comes_off_before_the_minutes(server_api, one_euro):
    body = server_api.post("/calls/start", start_body(one_euro, connection_fee="0.40"))[1]
    assert (body["max_duration_seconds"], body["held"]) == (360, "1.0000")


def test_the_hold_is_rounded_up_but_never_above_what_is_usable(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("0.0100"))
    body = server_api.post("/calls/start", start_body(callerid, rate_per_minute="0.0700"))[1]
    # ⌊0.01 × 60 / 0.07⌋ = 8 s; 0.07 × 8 / 60 = 0.009333… → 0.0094
    assert (body["max_duration_seconds"], body["held"], body["available"]) == (
        8,
        "0.0094",
        "0.0006",
    )


def test_a_rate_of_zero_gets_the_extension_maximum(server_api, one_euro):
    body = server_api.post("/calls/start", start_body(one_euro, rate_per_minute="0"))[1]
    assert (body["max_duration_seconds"], body["held"]) == (3600, "0.0000")


def test_a_second_call_uses_only_what_the_first_does_not_hold(server_api, extension_a):
    extension_a.max_calls_per_callerid = None
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1.0000"))
    first = server_api.post("/calls/start", start_body(callerid, "a", rate_per_minute="0.0010"))
    assert first[1]["held"] == "0.0600"  # 3600 s at 0.001
    second = server_api.post("/calls/start", start_body(callerid, "b", rate_per_minute="1.0000"))
    assert (second[1]["max_duration_seconds"], second[1]["held"]) == (56, "0.9334")
    # 0.0066 left: 3 s at 0.10, less than 1 s at 1.00
    third = server_api.post("/calls/start", start_body(callerid, "c", rate_per_minute="1.0000"))
    assert third == (200, {"decision": "deny", "reason": "no_credit"})
    fourth = server_api.post("/calls/start", start_body(callerid, "d"))
    assert (fourth[1]["max_duration_seconds"], fourth[1]["held"]) == (3, "0.0050")


def test_the_per_callerid_limit_denies_a_second_call(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro, "a", rate_per_minute="0.0010"))
    assert server_api.post("/calls/start", start_body(one_euro, "b")) == (
        200,
        {"decision": "deny", "reason": "too_many_calls"},
    )
    assert not CallHold.objects.filter(call_id="b").exists()


def test_the_extension_limit_counts_every_callerid(server_api, extension_a):
    extension_a.max_calls = 1
    extension_a.save()
    one = add_callerid(extension_a, CALLER)
    two = add_callerid(extension_a, "+40721000124")
    assert server_api.post("/calls/start", start_body(one, "a"))[0] == 201
    assert server_api.post("/calls/start", start_body(two, "b"))[1] == {
        "decision": "deny",
        "reason": "too_many_calls",
    }


def test_the_daily_limit_counts_todays_charges_and_holds(server_api, extension_a):
    extension_a.daily_limit = Decimal("0.5000")
    extension_a.max_calls_per_callerid = None
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("10.0000"))
    now = timezone.now().isoformat()
    report = report_body(callerid, "old", started_at=now, cost="0.2000")
    assert server_api.post("/calls", report)[0] == 201
    body = server_api.post("/calls/start", start_body(callerid, "a"))[1]
    assert (body["max_duration_seconds"], body["held"], body["available"]) == (
        180,
        "0.3000",
        "0.0000",
    )
    assert server_api.post("/calls/start", start_body(callerid, "b"))[1] == {
        "decision": "deny",
        "reason": "daily_limit_reached",
    }


def test_an_unlimited_callerid_holds_nothing(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, credit=UNLIMITED)
    assert server_api.post("/calls/start", start_body(callerid))[1] == {
        "decision": "allow",
        "call_id": "c1",
        "max_duration_seconds": 3600,
        "held": None,
        "available": None,
    }


def test_an_open_mode_call_holds_nothing_and_counts_on_the_extension(server_api, extension_a):
    extension_a.return_mode = ReturnMode.CALLER
    extension_a.max_calls = 1
    extension_a.save()
    assert server_api.post("/calls/start", start_body(None, "a"))[1]["held"] is None
    assert server_api.post("/calls/start", start_body(None, "b"))[1] == {
        "decision": "deny",
        "reason": "too_many_calls",
    }
    status, body = server_api.post("/calls", report_body(None, "a"))
    assert (status, body["metered"], body["charged"]) == (201, False, "0.0000")
    assert Call.objects.get(call_id="a").cost == Decimal("0.1000")  # from its start
    assert CallHold.objects.get(call_id="a").status == HoldStatus.SETTLED


def test_an_open_mode_start_on_an_authorized_only_extension_is_refused(server_api, extension_a):
    assert server_api.post("/calls/start", start_body(None))[1] == {
        "decision": "deny",
        "reason": "disabled",
    }


@pytest.mark.parametrize(
    "change",
    [
        lambda c, e: setattr(c, "status", CallerIDStatus.DISABLED) or c.save(),
        lambda c, e: setattr(e, "active", False) or e.save(),
        lambda c, e: setattr(e.organization, "active", False) or e.organization.save(),
    ],
)
def test_a_disabled_callerid_or_inactive_owner_is_denied(server_api, extension_a, change):
    callerid = add_callerid(extension_a, CALLER)
    change(callerid, extension_a)
    assert server_api.post("/calls/start", start_body(callerid))[1]["reason"] == "disabled"


def test_destination_rules_of_server_and_reseller_both_apply(server_api, extension_a, reseller_a):
    callerid = add_callerid(extension_a, CALLER)
    DestinationRules.objects.create(reseller=None, blocked_prefixes=["+882"])
    rules = DestinationRules.objects.create(
        reseller=reseller_a, allowed_countries=["RO"], max_rate_per_minute=Decimal("0.2")
    )

    def reason(destination, rate="0.1000"):
        body = start_body(callerid, destination=destination, rate_per_minute=rate)
        answer = server_api.post("/calls/start", body)[1]
        CallHold.objects.all().delete()
        return answer.get("reason")

    assert reason("+88213000000") == "destination_blocked"
    assert reason("+33142000000") == "destination_blocked"  # not in RO
    assert reason("+40900123456") == "premium_rate"  # Romanian premium-rate range
    assert reason("+4031000000", rate="0.2001") == "rate_too_high"
    assert reason("+4031000000") is None
    rules.refuse_premium = False
    rules.save()
    assert reason("+40900123456") == "premium_rate"  # the server's rules still refuse it
    DestinationRules.objects.filter(reseller=None).update(refuse_premium=False)
    assert reason("+40900123456") is None


def test_a_repeated_start_answers_the_original_and_holds_nothing_more(server_api, one_euro):
    first = server_api.post("/calls/start", start_body(one_euro))
    again = server_api.post("/calls/start", start_body(one_euro))
    assert again == (200, first[1])
    assert CallHold.objects.count() == 1


def test_a_start_reusing_a_call_id_for_another_call_conflicts(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro))
    status, body = server_api.post("/calls/start", start_body(one_euro, destination="+4031000001"))
    assert (status, body["error"]) == (409, "call_id_conflict")


def test_a_start_with_the_call_id_of_a_reported_call_conflicts(server_api, one_euro):
    server_api.post("/calls", report_body(one_euro, "done", cost="0.1"))
    status, body = server_api.post("/calls/start", start_body(one_euro, "done"))
    assert (status, body["error"]) == (409, "call_id_conflict")
    assert not CallHold.objects.exists()


def test_another_resellers_start_conflicts_without_details(api_a, api_b, extension_a, one_euro):
    api_a.post("/calls/start", start_body(one_euro))
    status, body = api_b.post("/calls/start", start_body(one_euro))
    assert (status, body["error"]) == (404, "unknown_extension")


def test_unknown_extension_and_callerid_are_404(server_api, extension_a, extension_b):
    other = add_callerid(extension_b, CALLER)
    status, body = server_api.post("/calls/start", start_body(other))
    assert (status, body["error"]) == (404, "unknown_callerid")
    status, body = server_api.post("/calls/start", start_body(other, extension="9999"))
    assert (status, body["error"]) == (404, "unknown_extension")


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_per_minute": "-0.1"},
        {"rate_per_minute": "0.00001"},
        {"connection_fee": "abc"},
        {"destination": ""},
        {"call_id": ""},
    ],
)
def test_bad_values_are_malformed(server_api, one_euro, bad):
    status, body = server_api.post("/calls/start", start_body(one_euro, **bad))
    assert (status, body["error"]) == (400, "malformed")


# -- Settling -----------------------------------------------------------------------------


def test_a_report_within_the_hold_settles_it(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro))
    status, body = server_api.post("/calls", report_body(one_euro, cost="0.3000"))
    assert (status, body["charged"], body["shortfall"], body["available"]) == (
        201,
        "0.3000",
        "0.0000",
        "0.7000",
    )
    hold = CallHold.objects.get(call_id="c1")
    assert hold.status == HoldStatus.SETTLED
    assert hold.settled_call == Call.objects.get(call_id="c1")
    assert server_api.get(f"/callerids/{one_euro.pk}/credit")[1]["held"] == "0.0000"


def test_a_report_without_cost_is_charged_at_the_rate_of_its_start(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro, connection_fee="0.0100"))
    body = server_api.post("/calls", report_body(one_euro, duration_seconds=61))[1]
    # 0.01 + 0.10 × 61 / 60 = 0.111666… → 0.1117
    assert body["charged"] == "0.1117"
    again = server_api.post("/calls", report_body(one_euro, duration_seconds=61))
    assert again == (200, body)


def test_a_report_without_cost_nor_start_is_malformed(server_api, one_euro):
    status, body = server_api.post("/calls", report_body(one_euro))
    assert (status, body["error"]) == (400, "malformed")


def test_beyond_its_hold_a_call_takes_only_what_other_calls_do_not_hold(server_api, extension_a):
    extension_a.max_calls_per_callerid = None
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("1.0000"))
    server_api.post("/calls/start", start_body(callerid, "a", rate_per_minute="0.0060"))  # 0.36
    server_api.post("/calls/start", start_body(callerid, "b", rate_per_minute="0.0100"))  # 0.60
    body = server_api.post("/calls", report_body(callerid, "a", cost="0.5000"))[1]
    # 1.00 − b's 0.60 = 0.40 may go to a
    assert (body["charged"], body["shortfall"], body["available"]) == ("0.4000", "0.1000", "0.6000")
    body = server_api.post("/calls", report_body(callerid, "b", cost="0.6000"))[1]
    assert (body["charged"], body["shortfall"], body["available"]) == ("0.6000", "0.0000", "0.0000")


def test_a_call_without_a_start_cannot_spend_what_calls_in_progress_hold(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro, rate_per_minute="0.0100"))  # 0.60
    body = server_api.post("/calls", report_body(one_euro, "other", cost="1.0000"))[1]
    assert (body["charged"], body["shortfall"]) == ("0.4000", "0.6000")


def test_a_report_naming_another_callerid_than_its_start_conflicts(server_api, extension_a):
    one = add_callerid(extension_a, CALLER)
    two = add_callerid(extension_a, "+40721000124")
    server_api.post("/calls/start", start_body(one))
    status, body = server_api.post("/calls", report_body(two, cost="0.1"))
    assert (status, body["error"]) == (409, "call_id_conflict")
    assert not Call.objects.exists()


def test_an_expired_hold_is_released_and_a_late_report_charged_without_it(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro, rate_per_minute="0.0100"))
    hold = CallHold.objects.get()
    later = hold.expires_at + timedelta(seconds=1)
    assert release_expired_holds(now=hold.expires_at - timedelta(seconds=1)) == 0
    assert release_expired_holds(now=later) == 1
    hold.refresh_from_db()
    assert (hold.status, hold.closed_at) == (HoldStatus.EXPIRED, later)
    body = server_api.post("/calls", report_body(one_euro, cost="0.2000"))[1]
    assert (body["charged"], body["available"]) == ("0.2000", "0.8000")
    hold.refresh_from_db()
    assert hold.status == HoldStatus.EXPIRED and hold.settled_call is None


def test_an_overdue_hold_stops_counting_when_the_callerid_is_next_locked(server_api, one_euro):
    server_api.post("/calls/start", start_body(one_euro, "a", rate_per_minute="0.0010"))
    CallHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert server_api.post("/calls/start", start_body(one_euro, "b"))[0] == 201
    assert CallHold.objects.get(call_id="a").status == HoldStatus.EXPIRED


def test_a_start_time_with_any_valid_offset_is_stored_in_utc(server_api, one_euro):
    body = report_body(one_euro, "tz", started_at="2026-11-26T10:00:00-22:07", cost="0.1")
    assert server_api.post("/calls", body)[0] == 201
    assert Call.objects.get(call_id="tz").started_at.isoformat() == "2026-11-27T08:07:00+00:00"
