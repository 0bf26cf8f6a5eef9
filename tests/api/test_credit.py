"""GET /api/v1/callerids/<id>/credit (SPEC §9)."""

from decimal import Decimal

import pytest

from callerids.models import CallerIDStatus
from tests.api.conftest import UNLIMITED, add_callerid

pytestmark = pytest.mark.django_db


def test_it_answers_available_total_and_currency(server_api, extension_a):
    callerid = add_callerid(extension_a, "+40721000123", credit=Decimal("20"))
    server_api.post(
        "/calls",
        {
            "call_id": "c1",
            "extension": "0003*001",
            "callerid_id": callerid.pk,
            "started_at": "2026-11-26T10:00:00Z",
            "duration_seconds": 60,
            "cost": "7.9167",
        },
    )
    assert server_api.get(f"/callerids/{callerid.pk}/credit") == (
        200,
        {
            "unlimited": False,
            "available": "12.0833",
            "total": "20.0000",
            "held": "0.0000",
            "currency": "EUR",
        },
    )


def test_an_unlimited_callerid_has_no_amounts(server_api, extension_a):
    callerid = add_callerid(extension_a, "+40721000123", credit=UNLIMITED)
    assert server_api.get(f"/callerids/{callerid.pk}/credit")[1] == {
        "unlimited": True,
        "available": None,
        "total": None,
        "held": None,
        "currency": "EUR",
    }


def test_a_disabled_callerid_still_answers(server_api, extension_a):
    callerid = add_callerid(extension_a, "+40721000123", status=CallerIDStatus.DISABLED)
    assert server_api.get(f"/callerids/{callerid.pk}/credit")[0] == 200


def test_a_removed_callerid_is_unknown(server_api, extension_a):
    callerid = add_callerid(extension_a, "+40721000123", status=CallerIDStatus.REMOVED)
    assert server_api.get(f"/callerids/{callerid.pk}/credit") == (
        404,
        {"error": "unknown_callerid", "detail": "No such authorized CallerID."},
    )


def test_another_resellers_callerid_is_unknown(api_a, api_b, extension_a):
    callerid = add_callerid(extension_a, "+40721000123")
    status, body = api_b.get(f"/callerids/{callerid.pk}/credit")
    assert (status, body["error"]) == (404, "unknown_callerid")
    assert api_a.get(f"/callerids/{callerid.pk}/credit")[0] == 200


@pytest.mark.parametrize("bad", ["abc", "0", "-1", str(2**63)])
def test_an_id_that_is_not_a_positive_integer_is_malformed(server_api, bad):
    status, body = server_api.get(f"/callerids/{bad}/credit")
    assert (status, body["error"]) == (400, "malformed")


def test_it_reads_little(server_api, extension_a, django_assert_max_num_queries):
    callerid = add_callerid(extension_a, "+40721000123")
    server_api.get(f"/callerids/{callerid.pk}/credit")
    with django_assert_max_num_queries(3):
        assert server_api.get(f"/callerids/{callerid.pk}/credit")[0] == 200
