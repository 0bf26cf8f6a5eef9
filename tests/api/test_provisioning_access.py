"""Who may call each provisioning endpoint (SPEC §13): every endpoint × (server token,
own-reseller token, other-reseller token, pbx-only token, no token). The other reseller's
objects answer 404 and change nothing; a token without `provisioning` gets 403
`not_permitted`; no token 401. And the PBX endpoints need `pbx`."""

from __future__ import annotations

import pytest

from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import LedgerEntry
from tenancy.models import AuditEvent
from tests.api.provisioning_support import BOTH, Api, callerid, token

pytestmark = pytest.mark.django_db

EXT = "0003*001"  # reseller A's extension
ROLES = ["server", "own", "other", "pbx_only", "none"]


@pytest.fixture
def world(preferences, extension_a, extension_b, reseller_a, reseller_b):
    target = callerid(extension_a)
    callerid(extension_b, "+40731000003")
    tokens = {
        "server": token(permissions=BOTH, name="server"),
        "own": token(reseller=reseller_a, name="shop-a"),
        "other": token(reseller=reseller_b, name="shop-b"),
        "pbx_only": token(permissions=["pbx"], name="pbx"),
        "none": None,
    }
    return target, tokens


# (name, method, path, body, success status, the 404 code for the other reseller)
ENDPOINTS = [
    ("list_callerids", "GET", "/extensions/{ext}/callerids", None, 200, "unknown_extension"),
    (
        "create_callerids",
        "POST",
        "/extensions/{ext}/callerids",
        {"callerids": [{"number": "+40721000999", "initial_credit": "5.00"}]},
        201,
        "unknown_extension",
    ),
    ("get_callerid", "GET", "/callerids/{id}", None, 200, "unknown_callerid"),
    ("update_callerid", "PATCH", "/callerids/{id}", {"pin": "9876"}, 200, "unknown_callerid"),
    ("remove_callerid", "DELETE", "/callerids/{id}", None, 200, "unknown_callerid"),
    (
        "recharge",
        "POST",
        "/callerids/{id}/recharges",
        {"amount": "5.00", "order_number": "WEB-1"},
        201,
        "unknown_callerid",
    ),
    ("list_recharges", "GET", "/callerids/{id}/recharges", None, 200, "unknown_callerid"),
]


def _state():
    return (
        list(AuthorizedCallerID.objects.order_by("pk").values_list("number", "status", "pin_hash")),
        LedgerEntry.objects.count(),
        AuditEvent.objects.exclude(action="api_token.create").count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "path", "body", "success", "missing"),
    ENDPOINTS,
    ids=[e[0] for e in ENDPOINTS],
)
def test_endpoint_by_token(world, role, name, method, path, body, success, missing):
    target, tokens = world
    before = _state()
    status, answer = Api(tokens[role]).call(method, path.format(ext=EXT, id=target.pk), body)
    if role in ("server", "own"):
        assert status == success, answer
        if method != "GET":
            assert _state() != before
        return
    expected = {"other": (404, missing), "pbx_only": (403, "not_permitted")}
    expected["none"] = (401, "unauthenticated")
    assert (status, answer["error"]) == expected[role]
    assert _state() == before  # nothing changed, nothing written


@pytest.mark.parametrize("role", ROLES)
def test_list_extensions_by_token(world, role):
    _, tokens = world
    status, answer = Api(tokens[role]).get("/extensions")
    if role == "none":
        assert (status, answer["error"]) == (401, "unauthenticated")
        return
    if role == "pbx_only":
        assert (status, answer["error"]) == (403, "not_permitted")
        return
    assert status == 200
    numbers = [row["number"] for row in answer["results"]]
    assert (
        numbers
        == {
            "server": ["0003*001", "0004*001"],
            "own": ["0003*001"],
            "other": ["0004*001"],  # A's extension is not there
        }[role]
    )


def test_the_write_of_a_token_is_audited_with_the_token_as_actor(world):
    target, tokens = world
    status, _ = Api(tokens["own"]).patch(f"/callerids/{target.pk}", {"status": "disabled"})
    assert status == 200
    event = AuditEvent.objects.get(action="callerid.update")
    assert event.actor is None
    assert event.actor_token.name == "shop-a"
    assert event.actor_label == "token:shop-a"
    assert event.after["status"] == CallerIDStatus.DISABLED


PBX_CALLS = [
    ("POST", "/callback/authorize", {"extension": EXT, "caller_id": "+40721000123"}),
    ("POST", "/callback/verify-pin", {"callerid_id": 1, "pin": "1234"}),
    (
        "POST",
        "/calls",
        {
            "call_id": "c1",
            "extension": EXT,
            "callerid_id": None,
            "started_at": "2026-11-26T10:00:00Z",
            "duration_seconds": 1,
            "cost": "0",
        },
    ),
    ("GET", "/callerids/1/credit", None),
    (
        "POST",
        "/calls/start",
        {
            "call_id": "c2",
            "extension": EXT,
            "callerid_id": None,
            "destination": "+4031000000",
            "rate_per_minute": "0.02",
        },
    ),
]


def test_every_pbx_endpoint_is_in_the_permission_test():
    from api.routes import api

    schema = api.get_openapi_schema()
    pbx = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "Provisioning" not in operation.get("tags", [])
    }
    tested = {(m, p.replace("/callerids/1/", "/callerids/{callerid_id}/")) for m, p, _ in PBX_CALLS}
    assert pbx == tested


@pytest.mark.parametrize(("method", "path", "body"), PBX_CALLS)
def test_the_pbx_endpoints_need_the_pbx_permission(world, method, path, body):
    _, tokens = world
    status, answer = Api(tokens["own"]).call(method, path, body)
    assert (status, answer["error"]) == (403, "not_permitted")
    status, answer = Api(tokens["server"]).call(method, path, body)
    assert status in (200, 201, 404), answer


def test_a_token_with_both_permissions_uses_both(world):
    target, tokens = world
    api = Api(tokens["server"])
    assert api.get(f"/callerids/{target.pk}/credit")[0] == 200
    assert api.get(f"/callerids/{target.pk}")[0] == 200


def test_a_token_of_an_inactive_reseller_may_change_nothing(world, reseller_a):
    target, tokens = world
    reseller_a.active = False
    reseller_a.save()
    status, answer = Api(tokens["own"]).post(f"/callerids/{target.pk}/recharges", {"amount": "5"})
    assert (status, answer["error"]) == (403, "not_permitted")
    assert "inactive" in answer["detail"]
    target.refresh_from_db()
    assert target.available == 10
