"""docs/api.md's Provisioning examples are run, so the page cannot drift from the API.

Every ```sh block with a curl in the "## Provisioning" part is translated to a request of
Django's test client (method, URL, headers, body), in the order of the page, against a
world that matches the page (reseller A's extension 0003*001, a provisioning token named
"acme shop"). Each answer must succeed and match the ```json block shown after it: the
same keys at every level, the same values except ids and times.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from django.test import Client

from tests.api.provisioning_support import token

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
VARYING = {"id", "created_at", "removed_at"}  # differ from run to run


def provisioning_examples() -> list[tuple[str, object | None]]:
    """(curl command, the JSON shown after it or None), in the page's order."""
    text = DOC.read_text()
    part = text[text.index("\n## Provisioning\n") :]
    part = part[: part.index("\n## ", 1)]
    blocks = re.findall(r"```(sh|json)\n(.*?)```", part, flags=re.S)
    examples = []
    for kind, body in blocks:
        if kind == "sh" and "curl" in body:
            examples.append([body, None])
        elif kind == "json" and examples and examples[-1][1] is None:
            examples[-1][1] = json.loads(body)
    return [tuple(e) for e in examples]


def to_request(command: str, variables: dict[str, str]) -> dict:
    """A curl command line as a test client request."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", command
    request = {"method": "GET", "headers": {}, "data": ""}
    rest = iter(words[1:])
    for word in rest:
        if word == "-sS":
            continue
        if word == "-X":
            request["method"] = next(rest)
        elif word == "-H":
            name, value = next(rest).split(":", 1)
            request["headers"][name.strip()] = value.strip()
        elif word == "-d":
            request["data"] = next(rest)
            if request["method"] == "GET":
                request["method"] = "POST"
        elif word.startswith("/api/v1/"):
            request["url"] = word
        else:
            raise AssertionError(f"unknown curl argument {word!r} in {command}")
    return request


def assert_matches(real, shown, where="answer"):
    if isinstance(shown, dict):
        assert isinstance(real, dict) and set(real) == set(shown), (where, real, shown)
        for key, value in shown.items():
            if key in VARYING:
                assert (real[key] is None) == (value is None), (where, key)
            else:
                assert_matches(real[key], value, f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(real, list) and len(real) == len(shown), (where, real, shown)
        for index, (got, want) in enumerate(zip(real, shown, strict=True)):
            assert_matches(got, want, f"{where}[{index}]")
    else:
        assert real == shown, (where, real, shown)


def test_the_page_has_an_example_for_every_provisioning_endpoint():
    lines = {
        to_request(c, {"CBM": "", "TOKEN": "t", "CALLERID": "1"})["method"]
        + " "
        + to_request(c, {"CBM": "", "TOKEN": "t", "CALLERID": "1"})["url"].split("?")[0]
        for c, _ in provisioning_examples()
    }
    assert lines == {
        "GET /api/v1/extensions",
        "POST /api/v1/extensions/0003*001/callerids",
        "GET /api/v1/extensions/0003*001/callerids",
        "GET /api/v1/callerids/1",
        "PATCH /api/v1/callerids/1",
        "POST /api/v1/callerids/1/recharges",
        "GET /api/v1/callerids/1/recharges",
        "DELETE /api/v1/callerids/1",
    }


def test_every_curl_example_works_as_shown(preferences, extension_a, reseller_a):
    variables = {"CBM": "", "TOKEN": token(reseller=reseller_a, name="acme shop")}
    client = Client()
    for command, shown in provisioning_examples():
        variables.setdefault("CALLERID", "0")
        request = to_request(command, variables)
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request["headers"].items()}
        content_type = headers.pop("HTTP_CONTENT_TYPE", "application/json")
        response = client.generic(
            request["method"], request["url"], request["data"], content_type=content_type, **headers
        )
        assert 200 <= response.status_code < 300, (command, response.content)
        answer = response.json()
        if "callerids" in answer and request["method"] == "POST":
            variables["CALLERID"] = str(answer["callerids"][0]["id"])
        assert shown is not None, f"no JSON answer shown after {command}"
        assert_matches(answer, shown)
