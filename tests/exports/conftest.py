"""Every export test runs with a server time zone that is not UTC, so conversions show."""

import pytest

from tests.exports.helpers import TIME_ZONE


@pytest.fixture(autouse=True)
def server_time_zone(settings):
    settings.TIME_ZONE = TIME_ZONE
