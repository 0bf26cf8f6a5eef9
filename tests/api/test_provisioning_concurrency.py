"""The provisioning API under simultaneous requests, on PostgreSQL (row locks are real):
one Idempotency-Key sent 20 times at once applies once; 20 recharges with different keys
leave the ledger exact; bulk creates racing for the last license room: one wins."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from api.models import IdempotencyKey
from callerids.models import AuthorizedCallerID, License
from callerids.selectors import get_license
from credit.models import LedgerEntry, LedgerKind
from tenancy.models import AuditEvent
from tests.api.provisioning_support import Api, callerid, token
from tests.parallel import in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def check_ledger() -> str:
    out = StringIO()
    call_command("check_ledger", stdout=out)  # raises CommandError naming a bad CallerID
    return out.getvalue()


@pytest.fixture
def shop(preferences, extension_a, reseller_a):
    return token(reseller=reseller_a, name="shop-a")


def test_the_same_key_sent_20_times_at_once_applies_once(shop, extension_a):
    target = callerid(extension_a, credit=D("10"))
    path = f"/callerids/{target.pk}/recharges"
    answers = in_parallel(
        [lambda: Api(shop).post(path, {"amount": "5", "order_number": "W-1"}, key="once")] * 20
    )
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert {a[0] for a in answers} == {201}
    assert len({repr(a[1]) for a in answers}) == 1  # every one got the first answer
    target.refresh_from_db()
    assert target.available == D("15")
    assert LedgerEntry.objects.filter(kind=LedgerKind.RECHARGE).count() == 1
    assert AuditEvent.objects.filter(action="credit.recharge").count() == 1
    assert IdempotencyKey.objects.count() == 1
    check_ledger()


def test_the_same_bulk_create_key_at_once_adds_once(shop, extension_a):
    body = {"callerids": [{"number": f"+4072100{i:04d}"} for i in range(20)]}
    path = "/extensions/0003*001/callerids"
    answers = in_parallel([lambda: Api(shop).post(path, body, key="bulk-1")] * 20)
    assert {a[0] for a in answers} == {201}, answers
    assert AuthorizedCallerID.objects.count() == 20
    assert get_license().active_callerids == 20


def test_20_recharges_with_different_keys_leave_the_ledger_exact(shop, extension_a):
    target = callerid(extension_a, credit=D("10"))
    path = f"/callerids/{target.pk}/recharges"
    amounts = [D("0.10"), D("-0.30"), D("1.25"), D("-0.05")] * 5

    def recharge(i, amount):
        return lambda: Api(shop).post(path, {"amount": str(amount)}, key=f"k-{i}")

    answers = in_parallel([recharge(i, a) for i, a in enumerate(amounts)])
    assert [a[0] for a in answers] == [201] * 20, answers
    target.refresh_from_db()
    assert target.available == D("10") + sum(amounts)
    assert target.total == D("10") + sum(amounts)
    rows = list(LedgerEntry.objects.filter(callerid=target).order_by("id"))
    assert len(rows) == 21
    balance = rows[0].balance_after
    for row in rows[1:]:
        assert row.balance_after == balance + row.amount
        balance = row.balance_after
    assert balance == target.available
    check_ledger()


def test_bulk_creates_racing_for_the_last_room_one_wins(shop, extension_a):
    callerid(extension_a, "+40700000000")
    License.objects.update(max_active_callerids=3)  # room for 2 more
    path = "/extensions/0003*001/callerids"

    def bulk(i):
        body = {"callerids": [{"number": f"+407210{i:02d}001"}, {"number": f"+407210{i:02d}002"}]}
        return lambda: Api(shop).post(path, body)

    answers = in_parallel([bulk(i) for i in range(20)])
    statuses = sorted(a[0] for a in answers)
    assert statuses == [201] + [409] * 19, answers
    assert {a[1]["error"] for a in answers if a[0] == 409} == {"license_exceeded"}
    assert AuthorizedCallerID.objects.count() == 3
    assert get_license().active_callerids == 3
    check_ledger()
