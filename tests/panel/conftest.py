"""Fixtures of the panel-wide tests: a world with one of everything on each reseller's side."""

import datetime
from decimal import Decimal

import pytest

from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import Call
from tenancy.audit import Actor
from tenancy.services.tokens import create_token


@pytest.fixture
def world(cast, reseller_a, reseller_b, org_a, org_b, extension_a, extension_b):
    callerid_a = AuthorizedCallerID.objects.create(
        extension=extension_a, number="+40721000111", available=Decimal("5"), total=Decimal("5")
    )
    callerid_b = AuthorizedCallerID.objects.create(
        extension=extension_b,
        number="+40721999888",
        available=Decimal("5"),
        total=Decimal("5"),
        status=CallerIDStatus.ENABLED,
    )
    Call.objects.create(
        call_id="b-call-1",
        extension=extension_b,
        callerid=callerid_b,
        caller_id="+40721999888",
        destination="+4031555999",
        started_at=datetime.datetime.now(datetime.UTC),
        duration_seconds=60,
        cost=Decimal("1"),
        charged=Decimal("1"),
        shortfall=Decimal("0"),
        metered=True,
    )
    token_b = create_token(actor=Actor(user=cast["admin"]), name="Token of B", reseller=reseller_b)
    return {
        "a": {
            "reseller": reseller_a,
            "organization": org_a,
            "extension": extension_a,
            "callerid": callerid_a,
            "user": cast["reseller_a"],
            "token": None,
        },
        "b": {
            "reseller": reseller_b,
            "organization": org_b,
            "extension": extension_b,
            "callerid": callerid_b,
            "user": cast["reseller_b"],
            "token": token_b.token,
        },
    }
