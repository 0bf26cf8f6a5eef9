"""Fuzz the API from its own published schema (/api/v1/openapi.json) with schemathesis.

In-process through Django's WSGI handler, with a valid bearer token, a bounded and
derandomized number of examples per operation: no answer is a 500, and every answer
(status, content type, body) is one the schema declares.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callback.models import ReturnMode
from tests.api.conftest import add_callerid

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Values that exist in `world`: random text almost never names an extension, so half of the
# generated bodies get some of these to reach the success paths too.
KNOWN = {
    "extension": ["0003*001", "0004*001", "1", "2"],
    "caller_id": ["+40721000123", "0721 000 123", "1234", "anonymous", None],
    "callerid_id": [1, 2, 3, None],
    "pin": ["1234", "0000"],
    "destination": ["+4031000000", "+40900123456", "+88212345678", "0310000000"],
    "rate_per_minute": ["0.0500", "0", "1000000"],
    "call_id": ["pbx1-1", "pbx1-2"],
}
KNOWN_PATH = {"callerid_id": [1, 2, 3], "number": ["0003*001", "0004*001"]}
OPERATIONS = [
    ("/api/v1/callback/authorize", "POST"),
    ("/api/v1/callback/verify-pin", "POST"),
    ("/api/v1/calls", "POST"),
    ("/api/v1/calls/start", "POST"),
    ("/api/v1/callerids/{callerid_id}/credit", "GET"),
    # The provisioning API (SPEC §13).
    ("/api/v1/extensions", "GET"),
    ("/api/v1/extensions/{number}/callerids", "GET"),
    ("/api/v1/extensions/{number}/callerids", "POST"),
    ("/api/v1/callerids/{callerid_id}", "GET"),
    ("/api/v1/callerids/{callerid_id}", "PATCH"),
    ("/api/v1/callerids/{callerid_id}", "DELETE"),
    ("/api/v1/callerids/{callerid_id}/recharges", "POST"),
    ("/api/v1/callerids/{callerid_id}/recharges", "GET"),
]


@pytest.fixture
def wsgi_app():
    # The WSGI handler closes "old" connections around each request, which would close the
    # test's own transaction; Django's test client disconnects the same signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(preferences, extension_a, extension_b, org_a):
    """Objects the generated requests can hit: CallerIDs with ids 1, 2, 3 and every mode."""
    from callback.models import CallbackExtension

    add_callerid(extension_a, "+40721000123", pin="1234")
    add_callerid(extension_a, "1234", credit=None)
    add_callerid(extension_b, "+40721000123")
    CallbackExtension.objects.create(organization=org_a, number="1", return_mode=ReturnMode.CALLER)
    CallbackExtension.objects.create(
        organization=org_a, number="2", return_mode=ReturnMode.FIXED, fixed_number="+40311000000"
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_answer_matches_the_schema(wsgi_app, world, make_token, path, method, mode):
    headers = {"Authorization": f"Bearer {make_token(permissions=['pbx', 'provisioning'])}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operation = schema[path][method]

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), known=st.data())
    def check(case, known):
        if known.draw(st.booleans()):
            for values, choices in ((case.body, KNOWN), (case.path_parameters, KNOWN_PATH)):
                if isinstance(values, dict):
                    for key in sorted(set(values) & set(choices)):
                        values[key] = known.draw(st.sampled_from(choices[key]))
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
