"""GET /api/v1/extensions shows each extension's call-admission settings (SPEC §11, §13)."""

from decimal import Decimal

import pytest

from tests.api.provisioning_support import Api, token


@pytest.mark.django_db
def test_the_extension_list_shows_the_call_admission_settings(preferences, extension_a):
    extension_a.max_call_duration_seconds = 600
    extension_a.max_calls_per_callerid = 2
    extension_a.max_calls = 5
    extension_a.daily_limit = Decimal("3.5")
    extension_a.min_credit = Decimal("0.25")
    extension_a.save()

    status, body = Api(token()).get("/extensions")

    assert status == 200
    (row,) = [r for r in body["results"] if r["number"] == extension_a.number]
    assert row["max_call_duration_seconds"] == 600
    assert row["max_calls_per_callerid"] == 2
    assert row["max_calls"] == 5
    assert row["daily_limit"] == "3.5000"
    assert row["min_credit"] == "0.2500"
