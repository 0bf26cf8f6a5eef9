"""Fixtures of the panel-wide tests: a world with one of everything on each reseller's side."""

import pytest

from tests import factories


@pytest.fixture
def world(cast, reseller_a, reseller_b, org_a, org_b, extension_a, extension_b):
    callerid_a = factories.callerid(extension_a, "+40721000111", credit="5")
    callerid_b = factories.callerid(extension_b, "+40721999888", credit="5")
    token_b = factories.token(reseller_b, "Token of B", by=cast["admin"])
    # A call of B's CallerID, reported by B's PBX (its cost and destination are markers).
    factories.call(
        token_b.token,
        extension_b,
        callerid_b,
        cost="1",
        destination="+4031555999",
        call_id="b-call-1",
    )
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
