"""Only `Authorization: Bearer <token>` opens the API: no session, no cookie, no CSRF."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenancy.audit import SYSTEM
from tenancy.models import ApiToken
from tenancy.services.tokens import create_token, revoke_token

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/v1/callback/authorize", {"extension": "0003*001", "caller_id": "1234"}),
    ("post", "/api/v1/callback/verify-pin", {"callerid_id": 1, "pin": "1234"}),
    (
        "post",
        "/api/v1/calls",
        {
            "call_id": "x",
            "extension": "0003*001",
            "callerid_id": None,
            "started_at": "2026-11-26T10:00:00Z",
            "duration_seconds": 1,
            "cost": "0",
        },
    ),
    ("get", "/api/v1/callerids/1/credit", None),
    (
        "post",
        "/api/v1/calls/start",
        {
            "call_id": "x",
            "extension": "0003*001",
            "callerid_id": 1,
            "destination": "+4031000000",
            "rate_per_minute": "0.05",
        },
    ),
]


def call(client, method, path, body, **headers):
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["error"] == "unauthenticated"
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_no_token_is_401_as_json_not_a_login_redirect(extension_a, method, path, body):
    assert_unauthenticated(call(Client(), method, path, body))


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_logged_in_browser_session_without_a_token_is_401(
    client_for, extension_a, method, path, body
):
    assert_unauthenticated(call(client_for("admin"), method, path, body))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer cbm_deadbeef_wrong",
        "Bearer nonsense",
        "Basic YWRtaW46cGFzcw==",
        "Token cbm_a_b",
        "Bearer cbm__x",
        "Bearer cbm_DEADBEEF_x",
        "Bearer cbm_" + "a" * 40 + "_x",
    ],
)
def test_a_wrong_or_misshapen_token_is_401(extension_a, header):
    response = call(Client(), *ENDPOINTS[0], HTTP_AUTHORIZATION=header)
    assert_unauthenticated(response)


def test_the_right_prefix_with_a_wrong_secret_is_401(extension_a):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    forged = f"cbm_{created.token.prefix}_{'x' * 43}"
    assert_unauthenticated(call(Client(), *ENDPOINTS[0], HTTP_AUTHORIZATION=f"Bearer {forged}"))


def test_a_revoked_token_is_401(extension_a):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    header = {"HTTP_AUTHORIZATION": f"Bearer {created.plaintext}"}
    assert call(Client(), *ENDPOINTS[0], **header).status_code == 200
    revoke_token(actor=SYSTEM, token=created.token)
    assert_unauthenticated(call(Client(), *ENDPOINTS[0], **header))


def test_csrf_does_not_apply_to_a_token_request(extension_a):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    client = Client(enforce_csrf_checks=True)
    response = call(client, *ENDPOINTS[0], HTTP_AUTHORIZATION=f"Bearer {created.plaintext}")
    assert response.status_code == 200


def test_the_token_records_its_last_use_at_most_once_a_minute(extension_a):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    header = {"HTTP_AUTHORIZATION": f"Bearer {created.plaintext}", "REMOTE_ADDR": "192.0.2.7"}
    call(Client(), *ENDPOINTS[0], **header)
    token = ApiToken.objects.get()
    assert token.last_used_address == "192.0.2.7"
    first = token.last_used_at
    assert first is not None
    call(Client(), *ENDPOINTS[0], **header)
    token.refresh_from_db()
    assert token.last_used_at == first
    # Another address is written at once; an old time is refreshed.
    call(Client(), *ENDPOINTS[0], **{**header, "REMOTE_ADDR": "192.0.2.8"})
    token.refresh_from_db()
    assert token.last_used_address == "192.0.2.8"
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    call(Client(), *ENDPOINTS[0], **{**header, "REMOTE_ADDR": "192.0.2.8"})
    token.refresh_from_db()
    assert token.last_used_at > timezone.now() - timedelta(seconds=30)


def test_a_recent_use_costs_no_write(extension_a, django_assert_num_queries):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    header = {"HTTP_AUTHORIZATION": f"Bearer {created.plaintext}"}
    call(Client(), *ENDPOINTS[3], **header)
    # token lookup, CallerID lookup: nothing else
    with django_assert_num_queries(2):
        assert call(Client(), *ENDPOINTS[3], **header).status_code == 404


def test_the_schema_is_public_and_describes_every_endpoint():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) == {
        "/api/v1/callback/authorize",
        "/api/v1/callback/verify-pin",
        "/api/v1/calls",
        "/api/v1/calls/start",
        "/api/v1/callerids/{callerid_id}/credit",
        "/api/v1/extensions",
        "/api/v1/extensions/{number}/callerids",
        "/api/v1/callerids/{callerid_id}",
        "/api/v1/callerids/{callerid_id}/recharges",
    }
    for operations in paths.values():
        for operation in operations.values():
            assert {"400", "401", "403", "404"} <= set(operation["responses"])
    assert "409" in paths["/api/v1/calls"]["post"]["responses"]
    assert response.json()["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_the_interactive_docs_stay_behind_the_panel_login(client_for):
    assert Client().get("/api/v1/docs").status_code == 302
    assert client_for("admin").get("/api/v1/docs").status_code == 200


def test_errors_on_malformed_json_are_400_malformed(extension_a):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    header = {"HTTP_AUTHORIZATION": f"Bearer {created.plaintext}"}
    for raw in ["{bad", "[1, 2]", '"text"', "", b"\xff\xfe{}", "null"]:
        response = Client().post(
            "/api/v1/callback/authorize", raw, content_type="application/json", **header
        )
        assert response.status_code == 400, raw
        assert response.json()["error"] == "malformed"
