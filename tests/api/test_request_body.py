"""What the API does with a body it cannot take (issue 16 item 11): one larger than Django's
upload limit answers 413, one that is not application/json answers 415; both JSON errors,
never Django's HTML 400 page."""

import json

import pytest
from django.conf import settings
from django.test import Client

from tests.api.test_calls import call_body

pytestmark = pytest.mark.django_db

POSTS = ["/api/v1/calls", "/api/v1/callback/authorize", "/api/v1/callback/verify-pin"]


@pytest.fixture
def headers(make_token, preferences):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token()}"}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "malformed" and body["detail"]
    return body


@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_upload_limit_is_a_json_413(headers, path):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    data = json.dumps({"extension": "0003*001", "caller_id": padding})

    response = Client().post(path, data, content_type="application/json", **headers)

    body = assert_json_error(response, 413)
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}" in body["detail"]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "application/json5"],
)
def test_a_body_that_is_not_application_json_is_a_json_415(headers, path, content_type):
    data = json.dumps(call_body(1))

    response = Client().post(path, data, content_type=content_type, **headers)

    body = assert_json_error(response, 415)
    assert "application/json" in body["detail"]


def test_a_multipart_form_is_a_json_415(headers):
    response = Client().post("/api/v1/calls", {"cost": "1"}, **headers)

    assert_json_error(response, 415)


def test_application_json_with_a_charset_is_accepted(headers, extension_a):
    data = json.dumps({"extension": "0003*001", "caller_id": "+40721000123"})

    response = Client().post(
        "/api/v1/callback/authorize",
        data,
        content_type="application/json; charset=utf-8",
        **headers,
    )

    assert response.status_code == 200, response.content
