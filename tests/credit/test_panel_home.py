"""The panel home (SPEC §14): each role's figures equal what the database says within its
scope, a reseller never sees another's business, and the counters the home reads (credit
totals, call days) stay equal to the rows they summarize."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from callerids.models import AuthorizedCallerID, CallerIDStatus, CreditTotals
from callerids.services import credit_totals
from callerids.services.callerids import add_callerids, remove_callerids
from callerids.services.validation import NewCallerID
from credit import call_days
from credit.models import Call, CallDay, CallHold, HoldStatus, LedgerEntry, LedgerKind
from credit.selectors_cost import server_zone
from credit.selectors_home import CHART_DAYS, cost_days, low_credit_threshold
from credit.services.calls import CallReport, report_call
from credit.services.holds import CallStart, start_call
from credit.services.recharge import add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.services.tokens import create_token

pytestmark = pytest.mark.django_db
D = Decimal
SCOPES = {
    "admin": None,
    "staff_server": None,
    "reseller_a": "a",
    "staff_a": "a",
    "reseller_b": "b",
}


def _add(actor, extension, *rows):
    return add_callerids(actor=actor, extension=extension, rows=list(rows)).callerids


def _call(token, extension, callerid, cost, *, started_at=None, call_id=None):
    report = CallReport(
        call_id=call_id or uuid.uuid4().hex,
        extension=extension.number,
        callerid_id=callerid.pk if callerid is not None else None,
        caller_id=callerid.number if callerid is not None else "+40722000000",
        destination="+4031000000",
        started_at=started_at or timezone.now(),
        duration_seconds=95,
        cost=D(cost),
    )
    return report_call(token=token, report=report, actor=Actor(token=token))


@pytest.fixture
def business(cast, reseller_a, reseller_b, extension_a, extension_b):
    """Reseller A and B each with limited, low, empty, Unlimited and removed CallerIDs,
    recharges, metered and unmetered calls today and earlier; all through the services."""
    admin = Actor(user=cast["admin"])
    a20, a3, a0, a_unl, a_gone, _a2 = _add(
        admin,
        extension_a,
        NewCallerID("+40721000001", credit=D("20")),
        NewCallerID("+40721000002", credit=D("3.5")),
        NewCallerID("+40721000003", credit=D("0")),
        NewCallerID("+40721000004", unlimited=True),
        NewCallerID("+40721000005", credit=D("7")),
        NewCallerID("+40721000006", credit=D("2")),
    )
    b50, b1 = _add(
        admin,
        extension_b,
        NewCallerID("+40721999001", credit=D("50")),
        NewCallerID("+40721999002", credit=D("1.25")),
    )
    add_credit(actor=admin, callerid=a20, amount=D("10"), order_number="A-ORDER-1")
    add_credit(actor=admin, callerid=a3, amount=D("-0.5"), order_number="A-ORDER-2")
    add_credit(actor=admin, callerid=b50, amount=D("5"), order_number="B-ORDER-9")
    remove_callerids(actor=admin, ids=[a_gone.pk])
    token = create_token(actor=SYSTEM, name="pbx", reseller=None).token
    _call(token, extension_a, a20, "2.5")
    _call(token, extension_a, a3, "9")  # more than it has: a shortfall
    _call(token, extension_a, a_unl, "4")
    _call(token, extension_a, None, "1.75")  # unmetered
    _call(token, extension_a, a20, "1", started_at=timezone.now() - dt.timedelta(days=12))
    _call(token, extension_a, a20, "0.5", started_at=timezone.now() - dt.timedelta(days=45))
    _call(token, extension_b, b50, "6.25")
    _call(token, extension_b, b50, "3", started_at=timezone.now() - dt.timedelta(days=3))
    # Calls in progress: two on A, one on B; a finished one (reported) and an expired one
    # are not in progress.
    for callerid, call_id in (
        (a20, "live-a1"),
        (a_unl, "live-a2"),
        (b50, "live-b1"),
        (a20, "done"),
    ):
        _start(token, callerid, call_id)
    _call(token, extension_a, a20, "0.1", call_id="done")
    _start(token, a20, "stale")
    CallHold.objects.filter(call_id="stale").update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    return {"a": reseller_a, "b": reseller_b}


def _start(token, callerid, call_id):
    start = CallStart(
        call_id=call_id,
        extension=callerid.extension.number,
        callerid_id=callerid.pk,
        destination="+4031000111",
        rate_per_minute=D("0.0100"),
    )
    return start_call(token=token, start=start)


def expected(reseller):
    """The home's figures computed from the rows themselves, in Decimal."""
    callerids = AuthorizedCallerID.objects.exclude(status=CallerIDStatus.REMOVED)
    calls = Call.objects.all()
    ledger = LedgerEntry.objects.exclude(kind=LedgerKind.CALL)
    if reseller is not None:
        callerids = callerids.filter(extension__organization__reseller=reseller)
        calls = calls.filter(extension__organization__reseller=reseller)
        ledger = ledger.filter(callerid__extension__organization__reseller=reseller)
    limited = [c for c in callerids if not c.unlimited]
    threshold = low_credit_threshold()
    today = timezone.localdate(timezone=server_zone())

    def totals(days):
        chosen = [c for c in calls if c.started_at.astimezone(server_zone()).date() in days]
        return {
            "calls": len(chosen),
            "seconds": sum(c.duration_seconds for c in chosen),
            "cost": sum((c.cost for c in chosen), D("0")),
            "shortfall": sum((c.shortfall for c in chosen), D("0")),
        }

    month = {
        today - dt.timedelta(days=n)
        for n in range(31)
        if (today - dt.timedelta(days=n)).month == today.month
    }
    chart = []
    for n in range(CHART_DAYS - 1, -1, -1):
        day = today - dt.timedelta(days=n)
        chart.append(
            sum(
                (c.cost for c in calls if c.started_at.astimezone(server_zone()).date() == day),
                D("0"),
            )
        )
    return {
        "active": callerids.filter(status=CallerIDStatus.ENABLED).count(),
        "outstanding": sum((c.available for c in limited), D("0")),
        "unlimited": sum(1 for c in callerids if c.unlimited),
        "low": sum(1 for c in limited if D("0") < c.available < threshold),
        "empty": sum(1 for c in limited if c.available == 0),
        "today": totals({today}),
        "month": totals(month),
        "chart": chart,
        "recent": list(ledger.order_by("-id").values_list("id", flat=True)[:10]),
        "in_progress": sum(
            1
            for hold in CallHold.objects.filter(status=HoldStatus.OPEN)
            if hold.expires_at > timezone.now()
            and (reseller is None or hold.extension.organization.reseller_id == reseller.pk)
        ),
    }


def _figures(panel):
    def totals(t):
        return {"calls": t.calls, "seconds": t.seconds, "cost": t.cost, "shortfall": t.shortfall}

    return {
        "active": panel.active,
        "outstanding": panel.outstanding,
        "unlimited": panel.unlimited,
        "low": panel.low.count,
        "empty": panel.empty.count,
        "today": totals(panel.today),
        "month": totals(panel.month),
        "chart": [day.metered + day.unmetered for day in panel.days],
        "recent": [entry.pk for entry in panel.recent],
        "in_progress": panel.in_progress,
    }


@pytest.mark.parametrize("role", list(SCOPES))
def test_the_home_shows_what_the_database_holds_in_the_users_scope(client_for, business, role):
    reseller = business[SCOPES[role]] if SCOPES[role] else None
    response = client_for(role).get(reverse("home"))
    assert response.status_code == 200
    want = expected(reseller)
    assert _figures(response.context["panel"]) == want
    html = response.content.decode()
    figure = lambda name: re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html).group(1)  # noqa: E731
    assert figure("active") == str(want["active"])
    assert figure("unlimited") == str(want["unlimited"])
    assert figure("outstanding") == f"{want['outstanding']:.2f}"
    assert figure("low") == str(want["low"])
    assert figure("empty") == str(want["empty"])
    assert figure("today-calls") == str(want["today"]["calls"])
    assert figure("month-cost") == f"{want['month']['cost']:.2f}"
    assert figure("today-shortfall") == f"{want['today']['shortfall']:.2f}"
    assert figure("in-progress") == str(want["in_progress"])


def test_the_scenario_has_something_in_every_figure(business):
    """The test above would pass on zeros: make sure the data covers every figure."""
    want = expected(business["a"])
    assert want["outstanding"] > 0 and want["unlimited"] == 1
    assert want["low"] == 1 and want["empty"] == 2  # 0 from the start; 3.0 spent to 0
    assert want["today"]["calls"] == 5 and want["today"]["shortfall"] == D("6.0000")
    assert len(want["recent"]) == 8  # 6 initial credits, 2 recharges
    assert want["in_progress"] == 2 and expected(business["b"])["in_progress"] == 1


@pytest.mark.parametrize("role", ["reseller_a", "staff_a"])
def test_a_reseller_never_sees_another_resellers_business(client_for, business, role):
    html = client_for(role).get(reverse("home")).content.decode()
    for marker in ("B-ORDER-9", "+40721999001", "+40721999002", "0004*001", "Reseller B"):
        assert marker not in html
    assert "+40721000001" in html


def test_the_other_reseller_sees_only_its_own(client_for, business):
    html = client_for("reseller_b").get(reverse("home")).content.decode()
    for marker in ("+40721000001", "+40721000002", "0003*001", "Reseller A"):
        assert marker not in html
    assert "+40721999001" in html


# Queries: session and user, profile, license or reseller share, preferences, totals,
# low and empty (capped counts), day rows, recent recharges; no more with more data.
@pytest.mark.parametrize(
    ("role", "bound"),
    [("admin", 12), ("staff_server", 12), ("reseller_a", 12), ("staff_a", 12)],
)
def test_the_home_asks_the_database_a_fixed_number_of_times(
    client_for, business, role, bound, django_assert_max_num_queries
):
    client = client_for(role)
    client.get(reverse("home"))
    with django_assert_max_num_queries(bound):
        assert client.get(reverse("home")).status_code == 200


def test_users_without_a_role_see_the_reason_and_no_figures(client, business, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="x-Passw0rd!")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "panel" not in response.context
    assert "no role" in response.content.decode()


def test_anonymous_users_go_to_the_login_page(client, business):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_counters_equal_the_rows_they_summarize(business):
    stored = {t.reseller_id: (t.outstanding, t.unlimited) for t in CreditTotals.objects.all()}
    for reseller_id, (outstanding, unlimited) in credit_totals.computed().items():
        assert stored[reseller_id] == (outstanding, unlimited)
    days = {
        (row.reseller_id, row.day): {name: getattr(row, name) for name in call_days.COLUMNS}
        for row in CallDay.objects.all()
    }
    assert days == call_days.computed()


def test_a_call_on_a_removed_callerid_leaves_the_outstanding_credit_alone(
    business, cast, extension_a
):
    gone = AuthorizedCallerID.objects.get(number="+40721000005")
    before = CreditTotals.objects.get(reseller=business["a"]).outstanding
    token = create_token(actor=SYSTEM, name="pbx2", reseller=None).token
    _call(token, extension_a, gone, "2")
    assert CreditTotals.objects.get(reseller=business["a"]).outstanding == before


# +40721000002 ran out on its 9.00 call: empty, like +40721000003 (0 from the start).
@pytest.mark.parametrize(
    ("state", "numbers"),
    [("low", ["+40721000006"]), ("empty", ["+40721000002", "+40721000003"])],
)
def test_the_low_credit_links_lead_to_the_filtered_list(client_for, business, state, numbers):
    home = client_for("reseller_a").get(reverse("home")).content.decode()
    assert f"{reverse('credit:credit_watch')}?state={state}" in home
    response = client_for("reseller_a").get(reverse("credit:credit_watch"), {"state": state})
    assert response.status_code == 200
    assert [c.number for c in response.context["rows"]] == numbers


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("reseller_a", 200),
        ("reseller_b", 200),
        ("staff_a", 200),
        ("staff_server", 200),
        ("anonymous", 302),
    ],
)
def test_the_low_credit_list_answers_each_role(client_for, business, role, status):
    assert client_for(role).get(reverse("credit:credit_watch")).status_code == status


def test_the_low_credit_list_of_a_reseller_holds_only_its_callerids(client_for, business):
    response = client_for("reseller_b").get(reverse("credit:credit_watch"), {"state": "low"})
    assert [c.number for c in response.context["rows"]] == ["+40721999002"]
    assert "+407210000" not in response.content.decode()


def test_an_unknown_state_is_not_found(client_for, business):
    response = client_for("admin").get(reverse("credit:credit_watch"), {"state": "rich"})
    assert response.status_code == 404


def test_the_low_credit_list_asks_the_database_a_fixed_number_of_times(
    client_for, business, django_assert_max_num_queries
):
    client = client_for("admin")
    with django_assert_max_num_queries(8):
        assert client.get(reverse("credit:credit_watch"), {"state": "empty"}).status_code == 200


@pytest.mark.parametrize("size", ["wide", "compact"])
@pytest.mark.parametrize("role", list(SCOPES))
def test_the_chart_image_draws_the_scopes_days(client_for, business, role, size):
    response = client_for(role).get(reverse("credit:home_cost_chart", args=[size]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "private" in response["Cache-Control"]
    svg = response.content.decode()
    assert svg.lstrip().startswith("<svg") and "<script" not in svg
    # pygal writes each bar's value: the scope's costs per day are drawn, not another's
    days = cost_days(response.wsgi_request.user)
    assert [day.metered + day.unmetered for day in days] == expected(
        business[SCOPES[role]] if SCOPES[role] else None
    )["chart"]
    drawn = [day.metered for day in days if day.metered]
    assert drawn and all(f"{amount:.2f} EUR" in svg for amount in drawn)


def test_the_chart_image_is_for_users_with_a_role_only(client_for, client, business):
    url = reverse("credit:home_cost_chart", args=["wide"])
    assert client.get(url).status_code == 302
    assert (
        client_for("admin").get(reverse("credit:home_cost_chart", args=["huge"])).status_code == 404
    )


def test_the_home_gives_the_chart_figures_as_a_table_too(client_for, business):
    html = client_for("reseller_a").get(reverse("home")).content.decode()
    assert 'data-testid="home-chart-table"' in html
    assert reverse("credit:home_cost_chart", args=["compact"]) in html


def test_the_panel_totals_command_proves_the_counters_and_rebuilds_them(business):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("panel_totals", stdout=out)
    assert "OK" in out.getvalue()
    CreditTotals.objects.filter(reseller=business["a"]).update(outstanding=D("1"))
    CallDay.objects.filter(reseller=business["b"]).update(calls=99)
    with pytest.raises(CommandError):
        call_command("panel_totals", stdout=StringIO())
    out = StringIO()
    call_command("panel_totals", "--rebuild", stdout=out)
    assert "Rebuilt" in out.getvalue() and "OK" in out.getvalue()
