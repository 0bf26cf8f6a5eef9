"""The panel home's counters under concurrency: recharges, call reports, adds and removals
of one reseller's CallerIDs at once leave the credit totals and the call days equal to the
rows they summarize, to the last 0.0001 (PostgreSQL, 20 threads; SQLite in a row)."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from callerids.models import CreditTotals
from callerids.services import credit_totals
from callerids.services.callerids import add_callerids, remove_callerids
from callerids.services.validation import NewCallerID
from credit import call_days
from credit.models import CallDay
from credit.services.calls import CallReport, report_call
from credit.services.recharge import add_credit
from tenancy.audit import SYSTEM, Actor
from tenancy.preferences import get_preferences
from tenancy.services.tokens import create_token
from tests.parallel import in_parallel, in_sequence

D = Decimal


def scenario(extension, user, runner):
    prefs = get_preferences()
    prefs.decimals = 4
    prefs.save()
    actor = Actor(user=user)
    rows = [NewCallerID(f"+4072100{i:04d}", credit=D("3.3333")) for i in range(8)]
    callerids = add_callerids(actor=actor, extension=extension, rows=rows).callerids
    token = create_token(actor=SYSTEM, name="pbx", reseller=None).token
    now = timezone.now()

    def call(callerid, n):
        report = CallReport(
            call_id=uuid.uuid4().hex,
            extension=extension.number,
            callerid_id=callerid.pk if callerid else None,
            caller_id="+40722000000",
            destination="+4031000000",
            started_at=now,
            duration_seconds=30 + n,
            cost=D("0.4167") * (n % 5 + 1),
        )
        return lambda: report_call(token=token, report=report, actor=Actor(token=token))

    def recharge(callerid, amount):
        return lambda: add_credit(actor=actor, callerid=callerid.pk, amount=amount)

    def add(n):
        row = NewCallerID(f"+4072199{n:04d}", credit=D("1.0001"))
        return lambda: add_callerids(actor=actor, extension=extension, rows=[row])

    work = []
    for n in range(120):
        target = callerids[n % len(callerids)]
        work.append(call(target, n))
        if n % 3 == 0:
            work.append(recharge(target, D("0.7777") if n % 2 else D("-0.1111")))
        if n % 10 == 0:
            work.append(call(None, n))
        if n % 20 == 0:
            work.append(add(n))
    work.append(lambda: remove_callerids(actor=actor, ids=[callerids[0].pk, callerids[1].pk]))
    runner(work)

    stored = {t.reseller_id: (t.outstanding, t.unlimited) for t in CreditTotals.objects.all()}
    assert stored == credit_totals.computed()
    days = {
        (row.reseller_id, row.day): {name: getattr(row, name) for name in call_days.COLUMNS}
        for row in CallDay.objects.all()
    }
    assert days == call_days.computed()
    assert sum(day["calls"] + day["unmetered_calls"] for day in days.values()) == 132


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_changes_keep_the_counters_equal_to_the_rows(extension_a, reseller_a_user):
    scenario(extension_a, reseller_a_user, in_parallel)


@pytest.mark.django_db
def test_changes_in_a_row_keep_the_counters_equal_to_the_rows(extension_a, reseller_a_user):
    scenario(extension_a, reseller_a_user, in_sequence)
