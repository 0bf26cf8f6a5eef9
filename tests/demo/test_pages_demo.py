"""Demo authorized CallerIDs (callerids/demo.py), through the services, idempotent."""

import io

import pytest

from callerids.models import AuthorizedCallerID
from callerids.selectors import get_license
from demo import callerids as callerid_demo
from demo import extensions as demo_extensions
from demo import tenancy as demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_extensions_seeded():
    demo.seed(io.StringIO())
    demo_extensions.seed(io.StringIO())


def test_it_seeds_authorized_extensions_once(demo_extensions_seeded):
    out = io.StringIO()
    callerid_demo.seed(out)
    first = list(AuthorizedCallerID.objects.values_list("pk", flat=True))
    callerid_demo.seed(io.StringIO())
    assert list(AuthorizedCallerID.objects.values_list("pk", flat=True)) == first
    modes = set(AuthorizedCallerID.objects.values_list("extension__return_mode", flat=True))
    assert modes == {"authorized"}
    assert "Authorized CallerIDs: 24 created." in out.getvalue()


def test_it_covers_every_kind_of_row(demo_extensions_seeded):
    callerid_demo.seed(io.StringIO())
    rows = AuthorizedCallerID.objects.all()
    assert {c.status for c in rows} == {"enabled", "disabled", "removed"}
    assert any(c.has_pin for c in rows) and any(not c.has_pin for c in rows)
    assert any(c.available == 0 for c in rows)
    unlimited = {c.extension.organization.reseller.name for c in rows if c.unlimited}
    assert unlimited == {"Acme Telecom"}  # Blue Voice may not grant Unlimited
    assert get_license().active_callerids == rows.filter(status="enabled").count()


def test_it_does_nothing_without_extensions(db):
    callerid_demo.seed(io.StringIO())
    assert not AuthorizedCallerID.objects.exists()
