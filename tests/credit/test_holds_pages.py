"""Holds in the panel (SPEC §11): the calls-in-progress page and its release, the credit
page's "On hold", the adjustment limited to balance − holds, check_ledger's invariant and
manage.py release_expired_holds."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from callerids.services.callerids import add_callerids
from callerids.services.validation import NewCallerID
from credit.models import CallHold, HoldStatus
from credit.selectors_holds import calls_in_progress_count
from credit.services.holds import CallStart, start_call
from credit.services.recharge import add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.models import ApiToken, AuditEvent, ChargingPreferences
from tenancy.services.tokens import create_token
from values.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def preferences(db):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})


def make(extension, credit, number="+40721000123"):
    row = NewCallerID(number, credit=credit)
    return add_callerids(actor=SYSTEM, extension=extension, rows=[row]).callerids[0]


def token_for(reseller=None):
    plaintext = create_token(actor=SYSTEM, name="pbx", reseller=reseller).plaintext
    return ApiToken.objects.get(prefix=plaintext.split("_")[1])


def start(extension, callerid, call_id, rate="0.1000", destination="+4031000111"):
    return start_call(
        token=token_for(),
        start=CallStart(
            call_id=call_id,
            extension=extension.number,
            callerid_id=callerid.pk,
            destination=destination,
            rate_per_minute=D(rate),
        ),
    )


@pytest.fixture
def call_a(extension_a, preferences):
    callerid = make(extension_a, D("10"))
    start(extension_a, callerid, "pbx-a-1", rate="0.0050")  # 3600 s: 0.30 held
    return CallHold.objects.get(call_id="pbx-a-1")


@pytest.fixture
def call_b(extension_b, preferences):
    callerid = make(extension_b, D("10"), number="+40731000003")
    start(extension_b, callerid, "pbx-b-1", destination="+4031555999")
    return CallHold.objects.get(call_id="pbx-b-1")


def page(extension):
    return reverse("credit:calls_in_progress", args=[extension.pk])


def release_url(hold):
    return reverse("credit:calls_in_progress_release", args=[hold.extension_id, hold.pk])


# --- the calls-in-progress page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 200),
        ("staff_a", 200),
        ("staff_server", 200),
        ("reseller_b", 404),
        ("anonymous", 302),
    ],
)
def test_every_role_that_sees_the_extension_sees_its_calls(client_for, call_a, role, status):
    response = client_for(role).get(page(call_a.extension))
    assert response.status_code == status
    if status == 200:
        content = response.content.decode()
        assert "pbx-a-1" in content and "+40721000123" in content and "+4031000111" in content
        assert "0.30" in content and "3600 s" in content
        assert ("Release" in content) is (role in ("admin", "reseller_a"))


def test_the_page_reads_a_bounded_number_of_queries(
    client_for, extension_a, call_a, django_assert_max_num_queries
):
    callerid = call_a.callerid
    for n in range(5):
        start(extension_a, callerid, f"more-{n}", rate="0.0001")
    extension_a.max_calls_per_callerid = None
    extension_a.save()
    client = client_for("reseller_a")
    with django_assert_max_num_queries(8):
        assert client.get(page(extension_a)).status_code == 200


@pytest.mark.parametrize("role", ["admin", "reseller_a"])
def test_admins_and_resellers_release_a_stuck_hold_audited(client_for, call_a, role):
    response = client_for(role).post(release_url(call_a))
    assert response.status_code == 302
    call_a.refresh_from_db()
    assert call_a.status == HoldStatus.RELEASED and call_a.closed_at is not None
    event = AuditEvent.objects.get(action="hold.release")
    assert event.after["call_id"] == "pbx-a-1"
    assert event.reseller == call_a.extension.organization.reseller
    content = client_for(role).get(page(call_a.extension)).content.decode()
    assert "0 calls in progress" in content and "Released by a user" in content


def test_a_released_hold_no_longer_counts(client_for, cast, call_a):
    assert calls_in_progress_count(cast["admin"]) == 1
    client_for("admin").post(release_url(call_a))
    assert calls_in_progress_count(cast["admin"]) == 0


@pytest.mark.parametrize(("role", "status"), [("staff_a", 403), ("staff_server", 403)])
def test_staff_cannot_release(client_for, call_a, role, status):
    assert client_for(role).post(release_url(call_a)).status_code == status
    call_a.refresh_from_db()
    assert call_a.status == HoldStatus.OPEN


def test_another_resellers_hold_is_not_found(client_for, call_a, call_b):
    client = client_for("reseller_a")
    assert client.post(release_url(call_b)).status_code == 404
    # Its hold through our extension's URL is not found either.
    url = reverse("credit:calls_in_progress_release", args=[call_a.extension_id, call_b.pk])
    assert client.post(url).status_code == 404
    call_b.refresh_from_db()
    assert call_b.status == HoldStatus.OPEN


def test_releasing_twice_says_it_is_no_longer_in_progress(client_for, call_a):
    client = client_for("admin")
    client.post(release_url(call_a))
    response = client.post(release_url(call_a), follow=True)
    assert "no longer in progress" in response.content.decode()
    assert AuditEvent.objects.filter(action="hold.release").count() == 1


def test_calls_in_progress_are_counted_in_each_users_scope(cast, call_a, call_b):
    assert calls_in_progress_count(cast["admin"]) == 2
    assert calls_in_progress_count(cast["reseller_a"]) == 1
    assert calls_in_progress_count(cast["staff_a"]) == 1


# --- the credit page ------------------------------------------------------------------------


def test_the_credit_page_shows_what_is_on_hold(client_for, call_a):
    url = reverse("credit:callerid_credit", args=[call_a.callerid_id])
    content = client_for("staff_a").get(url).content.decode()
    assert "On hold for 1 call in progress:" in content
    assert "0.30 EUR" in content


def test_a_negative_adjustment_may_not_take_held_credit(client_for, call_a, admin_user):
    actor = Actor(user=admin_user)
    with pytest.raises(DomainError) as refused:
        add_credit(actor=actor, callerid=call_a.callerid_id, amount=D("-9.80"))
    assert refused.value.messages == [
        "At most 9.70 EUR can be removed; 0.30 EUR is held by calls in progress."
    ]
    with pytest.raises(DomainError) as refused:  # more than the balance itself
        add_credit(actor=actor, callerid=call_a.callerid_id, amount=D("-11"))
    assert refused.value.messages[0].startswith("At most 9.70 EUR can be removed; 0.30 EUR")
    result = add_credit(actor=actor, callerid=call_a.callerid_id, amount=D("-9.70"))
    assert result.callerid.available == D("0.30")


def test_the_credit_page_form_explains_the_held_credit(client_for, call_a):
    client = client_for("reseller_a")
    url = reverse("credit:callerid_credit", args=[call_a.callerid_id])
    key = client.get(url).context["form"]["one_time_key"].value()
    response = client.post(url, {"amount": "-10", "order_number": "", "one_time_key": str(key)})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "At most 9.70 EUR can be removed; 0.30 EUR is held by calls in progress."
    ]


def test_setting_unlimited_frees_the_holds(call_a, admin_user):
    add_credit(actor=Actor(user=admin_user), callerid=call_a.callerid_id, unlimited=True)
    call_a.refresh_from_db()
    assert (call_a.status, call_a.reserved) == (HoldStatus.OPEN, D("0"))
    add_credit(actor=Actor(user=admin_user), callerid=call_a.callerid_id, amount=D("-1"))
    out = StringIO()
    call_command("check_ledger", stdout=out)


# --- check_ledger and the expiry command ------------------------------------------------------


def test_check_ledger_names_a_callerid_whose_holds_pass_its_balance(call_a):
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "OK" in out.getvalue()
    CallHold.objects.filter(pk=call_a.pk).update(reserved=D("10.5"))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_ledger", stdout=out)
    assert "open hold(s) reserve 10.5000, more than the balance 10.0000" in out.getvalue()


def test_release_expired_holds_prints_what_it_released(call_a):
    out = StringIO()
    call_command("release_expired_holds", stdout=out)
    assert out.getvalue().strip() == "Released 0 expired hold(s)."
    CallHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("release_expired_holds", stdout=out)
    assert out.getvalue().strip() == "Released 1 expired hold(s)."
    call_a.refresh_from_db()
    assert call_a.status == HoldStatus.EXPIRED
