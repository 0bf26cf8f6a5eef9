"""Notification events fire on crossings only (SPEC §12), recorded with the money change."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callerids.services.callerids import add_callerids
from callerids.services.pin_verification import verify_pin
from callerids.services.validation import NewCallerID
from credit.services.recharge import add_credit
from notifications.models import Delivery, Event, EventType
from notifications.services import crossings
from tenancy.audit import SYSTEM, Actor
from tenancy.preferences import get_preferences
from tests.notifications.support import Charger, set_channels
from tests.parallel import in_parallel

D = Decimal
pytestmark = pytest.mark.django_db


def new_callerid(extension, credit, number="0721000123"):
    prefs = get_preferences()
    prefs.decimals = 4
    prefs.default_country = "RO"
    prefs.save()
    rows = [NewCallerID(number, credit=D(credit))]
    return add_callerids(actor=SYSTEM, extension=extension, rows=rows).callerids[0]


def types():
    return list(Event.objects.order_by("created_at").values_list("type", flat=True))


def test_crossings_fire_only_when_the_threshold_is_crossed():
    t = D("5")
    assert crossings(D("12"), D("4"), t) == [EventType.CREDIT_LOW]
    assert crossings(D("4"), D("3"), t) == []
    assert crossings(D("3"), D("15"), t) == []
    assert crossings(D("5"), D("4.9999"), t) == [EventType.CREDIT_LOW]
    assert crossings(D("5.0001"), D("5"), t) == []
    assert crossings(D("3"), D("0"), t) == [EventType.CREDIT_EXHAUSTED]
    assert crossings(D("6"), D("0"), t) == [EventType.CREDIT_LOW, EventType.CREDIT_EXHAUSTED]
    assert crossings(None, D("0"), t) == [EventType.CREDIT_LOW, EventType.CREDIT_EXHAUSTED]
    assert crossings(D("0"), D("0"), t) == []
    assert crossings(D("12"), None, t) == []
    assert crossings(D("12"), D("4"), None) == []


def test_12_4_3_15_2_with_threshold_5_sends_exactly_two_credit_low(
    reseller_a, extension_a, reseller_a_user
):
    set_channels(reseller_a, threshold=D("5"), webhook_url="https://hooks.example.com/cbm")
    callerid = new_callerid(extension_a, "12")
    charger = Charger(extension_a, callerid)
    charger.charge("8")  # 12 -> 4: crosses
    charger.charge("1")  # 4 -> 3: already below
    add_credit(actor=Actor(user=reseller_a_user), callerid=callerid.pk, amount=D("12"))  # 15
    charger.charge("13")  # 15 -> 2: crosses again
    callerid.refresh_from_db()
    assert callerid.available == D("2")
    assert types().count(EventType.CREDIT_LOW) == 2
    assert types().count(EventType.RECHARGE_APPLIED) == 1
    assert EventType.CREDIT_EXHAUSTED not in types()
    low = Event.objects.filter(type=EventType.CREDIT_LOW).order_by("created_at")
    assert [e.data["balance"] for e in low] == ["4.0000", "2.0000"]
    assert all(e.reseller_id == reseller_a.pk and e.data["threshold"] == "5.0000" for e in low)
    assert low[0].data["callerid"]["number"] == "+40721000123"
    assert low[0].data["link"].endswith(f"/callerids/{callerid.pk}/credit/")
    # One webhook delivery per event, waiting for the task that runs after the commit.
    assert Delivery.objects.filter(event__type=EventType.CREDIT_LOW).count() == 2


def test_reaching_zero_sends_credit_exhausted_once(reseller_a, extension_a):
    set_channels(reseller_a, threshold=D("1"))
    callerid = new_callerid(extension_a, "3")
    charger = Charger(extension_a, callerid)
    charger.charge("2.5")
    charger.charge("0.5")
    charger.charge("0.5")  # nothing left: a shortfall, still 0
    assert types() == [EventType.CREDIT_LOW, EventType.CREDIT_EXHAUSTED]


def test_the_server_threshold_applies_to_resellers_without_their_own(
    reseller_a, extension_a, admin_user
):
    set_channels(None, threshold=D("10"), emails=["noc@example.com"])
    callerid = new_callerid(extension_a, "12")
    Charger(extension_a, callerid).charge("3")
    event = Event.objects.get(type=EventType.CREDIT_LOW)
    assert event.data["threshold"] == "10.0000"
    # The server's channel gets every reseller's events.
    assert Delivery.objects.get(event=event).target == "noc@example.com"


def test_a_negative_adjustment_and_setting_a_limit_cross_too(reseller_a, extension_a, admin_user):
    set_channels(reseller_a, threshold=D("5"))
    callerid = new_callerid(extension_a, "12")
    actor = Actor(user=admin_user)
    add_credit(actor=actor, callerid=callerid.pk, amount=D("-8"))
    assert types().count(EventType.CREDIT_LOW) == 1
    add_credit(actor=actor, callerid=callerid.pk, unlimited=True)
    add_credit(actor=actor, callerid=callerid.pk, amount=D("-1"))  # Unlimited -> limited 0
    assert types().count(EventType.CREDIT_LOW) == 2
    assert types().count(EventType.CREDIT_EXHAUSTED) == 1


def test_a_refused_change_records_no_event(reseller_a, extension_a, admin_user):
    set_channels(reseller_a, threshold=D("5"))
    callerid = new_callerid(extension_a, "12")
    with pytest.raises(Exception, match="can be removed"):
        add_credit(actor=Actor(user=admin_user), callerid=callerid.pk, amount=D("-13"))
    assert types() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_charges_crossing_at_once_send_one_credit_low(reseller_a, extension_a):
    set_channels(reseller_a, threshold=D("5"))
    callerid = new_callerid(extension_a, "6")
    charger = Charger(extension_a, callerid)
    calls = [lambda n=n: charger.charge("0.5", call_id=f"p-{n}") for n in range(20)]
    outcomes = in_parallel(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    callerid.refresh_from_db()
    assert callerid.available == D("0")
    assert types().count(EventType.CREDIT_LOW) == 1
    assert types().count(EventType.CREDIT_EXHAUSTED) == 1
    assert Event.objects.get(type=EventType.CREDIT_LOW).data["balance"] == "4.5000"


def test_reaching_the_daily_limit_sends_daily_limit_reached_once(reseller_a, extension_a):
    extension_a.daily_limit = D("5")
    extension_a.save()
    callerid = new_callerid(extension_a, "100")
    charger = Charger(extension_a, callerid)
    charger.charge("3")
    assert EventType.DAILY_LIMIT_REACHED not in types()
    charger.charge("2")  # 5 of 5 today
    charger.charge("1")  # already over
    event = Event.objects.get(type=EventType.DAILY_LIMIT_REACHED)
    assert (event.data["daily_limit"], event.data["charged_today"]) == ("5.0000", "5.0000")
    assert event.data["callerid"]["id"] == callerid.pk


def test_a_pin_lockout_sends_callerid_locked(reseller_a, extension_a):
    prefs = get_preferences()
    prefs.default_country = "RO"
    prefs.save()
    rows = [NewCallerID("0721000123", pin="1234", credit=D("7"))]
    callerid = add_callerids(actor=SYSTEM, extension=extension_a, rows=rows).callerids[0]
    token = Charger(extension_a, callerid).token
    for _ in range(extension_a.pin_lock_limit):
        verify_pin(token=token, callerid_id=callerid.pk, pin="9999", actor=SYSTEM)
    event = Event.objects.get(type=EventType.CALLERID_LOCKED)
    assert event.reseller_id == reseller_a.pk
    assert event.data["callerid"]["number"] == "+40721000123"
    assert event.data["wrong_pin_count"] == extension_a.pin_lock_limit
    verify_pin(token=token, callerid_id=callerid.pk, pin="9999", actor=SYSTEM)
    assert types().count(EventType.CALLERID_LOCKED) == 1


def test_a_call_that_crosses_nothing_costs_no_query_more(
    reseller_a, extension_a, django_assert_num_queries
):
    callerid = new_callerid(extension_a, "100")
    charger = Charger(extension_a, callerid)
    charger.charge("1")  # warms the statements and the threshold cache (none set)
    with CaptureQueriesContext(connection) as without:
        charger.charge("1")
    set_channels(reseller_a, threshold=D("5"), webhook_url="https://hooks.example.com/cbm")
    charger.charge("1")  # reads the thresholds once (then cached for 5 s)
    with django_assert_num_queries(len(without.captured_queries)):
        charger.charge("1")  # 97 -> 96: above the threshold, nothing fires
    assert not Event.objects.filter(type=EventType.CREDIT_LOW).exists()
