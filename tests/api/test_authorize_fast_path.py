"""authorize's fast path (api/authorize_view.py) answers exactly as ninja's view:
same status, content type and bytes for every kind of request; it answers only requests
the schema certainly accepts, and hands everything else to ninja."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from api import authorize_view
from api.schemas import AuthorizeRequest
from callback.models import CallbackExtension, OutboundCallerIDMode, ReturnMode
from callerids.models import CallerIDStatus
from tenancy.audit import SYSTEM
from tenancy.models import ApiToken
from tenancy.services.tokens import revoke_token
from tests.api.conftest import UNLIMITED, add_callerid

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"
URL = "/api/v1/callback/authorize"


@pytest.fixture
def spy(monkeypatch):
    """Counts the requests the fast path answered itself."""
    answered = []
    real = authorize_view.fast_answer

    def counting(request):
        answer = real(request)
        if answer is not None:
            answered.append(answer.status_code)
        return answer

    monkeypatch.setattr(authorize_view, "fast_answer", counting)
    return answered


def send(token, body, *, content_type="application/json", method="post", header=None):
    headers = {}
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header
    elif token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if method == "get":
        response = Client().get(URL, **headers)
    else:
        response = getattr(Client(), method)(URL, data, content_type=content_type, **headers)
    return response.status_code, response["Content-Type"], response.content


def both_paths(monkeypatch, *args, **kwargs):
    """(fast view's answer, ninja's answer) of the same request."""
    fast = send(*args, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(authorize_view, "fast_answer", lambda request: None)
        slow = send(*args, **kwargs)
    return fast, slow


@pytest.fixture
def world(preferences, extension_a, extension_b, reseller_a, make_token):
    add_callerid(extension_a, CALLER, credit=Decimal("12.5"), pin="1234")
    add_callerid(extension_a, "+40721000124", credit=UNLIMITED)
    add_callerid(extension_a, "+40721000125", credit=Decimal("0"))
    add_callerid(extension_a, "+40721000126", status=CallerIDStatus.DISABLED)
    extension_a.disconnect_sound = "credit-finished"
    extension_a.save()
    CallbackExtension.objects.create(
        organization=extension_a.organization,
        number="0003*002",
        return_mode=ReturnMode.FIXED,
        fixed_number="+40311000000",
        outbound_callerid_mode=OutboundCallerIDMode.USER,
        outbound_callerid="+40311000009",
    )
    CallbackExtension.objects.create(
        organization=extension_a.organization,
        number="0003*003",
        return_mode=ReturnMode.CALLER,
        outbound_callerid_mode=OutboundCallerIDMode.CALLER,
    )
    return {
        "server": make_token(),
        "reseller_a": make_token(reseller_a, name="pbx-a"),
        "provisioning": make_token(name="shop", permissions=("provisioning",)),
    }


PLAIN_BODIES = [
    {"extension": "0003*001", "caller_id": CALLER},
    {"extension": "0003*001", "caller_id": "0721 000 123"},
    {"extension": "0003*001", "caller_id": "+40721000124"},
    {"extension": "0003*001", "caller_id": "+40721000125"},
    {"extension": "0003*001", "caller_id": "+40721000126"},
    {"extension": "0003*001", "caller_id": "+40721999999"},
    {"extension": "0003*001", "caller_id": "not a number"},
    {"extension": "0003*001", "caller_id": None},
    {"extension": "0003*001", "caller_id": "anonymous"},
    {"extension": "0003*001", "caller_id": ""},
    {"extension": "0003*002", "caller_id": None},
    {"extension": "0003*002", "caller_id": CALLER},
    {"extension": "0003*003", "caller_id": "0721 000 999"},
    {"extension": "0004*001", "caller_id": CALLER},  # reseller B's
    {"extension": "9999*999", "caller_id": CALLER},  # unknown
    {"extension": "0003*001", "caller_id": CALLER, "extra": [1.5, {"x": None}]},
    {"extension": "0003*001", "caller_id": "+40 721 000 123 ünïcödé"},
]


@pytest.mark.parametrize("body", PLAIN_BODIES)
@pytest.mark.parametrize("who", ["server", "reseller_a"])
def test_plain_requests_are_answered_by_the_fast_path_as_ninja_answers_them(
    world, monkeypatch, spy, body, who
):
    fast, slow = both_paths(monkeypatch, world[who], body)
    assert fast == slow
    assert spy == [fast[0]]  # the fast path answered the first one itself
    assert fast[0] in (200, 404)


def test_a_change_of_state_is_seen_by_the_next_request(world, extension_a, monkeypatch):
    body = {"extension": "0003*001", "caller_id": CALLER}
    assert json.loads(send(world["server"], body)[2])["decision"] == "callback"
    extension_a.organization.active = False
    extension_a.organization.save()
    fast, slow = both_paths(monkeypatch, world["server"], body)
    assert fast == slow
    assert json.loads(fast[2]) == {"decision": "reject", "reason": "disabled"}


OTHER_REQUESTS = [
    # (token key or None, body, keyword arguments of send)
    ("server", {"extension": "0003*001"}, {}),
    ("server", {"caller_id": CALLER}, {}),
    ("server", {"extension": 1, "caller_id": CALLER}, {}),
    ("server", {"extension": "0003*001", "caller_id": 40721000123}, {}),
    ("server", {"extension": "0" * 65, "caller_id": CALLER}, {}),
    ("server", {"extension": "0003*001\x00", "caller_id": CALLER}, {}),
    ("server", {"extension": "0003*001", "caller_id": "\x00"}, {}),
    ("server", '{"extension": "\\ud800", "caller_id": null}', {}),
    ("server", '{"extension": "0003*001", "caller_id": "\\udfff"}', {}),
    ("server", [{"extension": "0003*001", "caller_id": CALLER}], {}),
    ("server", "null", {}),
    ("server", "not json", {}),
    ("server", b"\xff\xfe", {}),
    ("server", "", {}),
    ("server", {"extension": "0003*001", "caller_id": CALLER}, {"content_type": "text/plain"}),
    ("server", {"extension": "0003*001", "caller_id": CALLER}, {"method": "put"}),
    ("server", {"extension": "0003*001", "caller_id": CALLER}, {"method": "get"}),
    (None, {"extension": "0003*001", "caller_id": CALLER}, {}),
    (None, {"extension": "0003*001", "caller_id": CALLER}, {"header": "Token abc"}),
    (None, {"extension": "0003*001", "caller_id": CALLER}, {"header": "Bearer"}),
    (None, {"extension": "0003*001", "caller_id": CALLER}, {"header": "Bearer cbm_zz_x"}),
    (None, {"extension": "0003*001", "caller_id": CALLER}, {"header": "Bearer cbm_00ab_x"}),
    ("provisioning", {"extension": "0003*001", "caller_id": CALLER}, {}),
    (None, "not json", {}),
]


@pytest.mark.parametrize(("who", "body", "options"), OTHER_REQUESTS)
def test_everything_else_is_answered_by_ninja(world, monkeypatch, spy, who, body, options):
    token = world[who] if who else None
    fast, slow = both_paths(monkeypatch, token, body, **options)
    assert fast == slow
    assert spy == []


def test_a_wrong_secret_or_a_revoked_token_is_refused(world, monkeypatch, spy):
    body = {"extension": "0003*001", "caller_id": CALLER}
    prefix = world["server"].split("_")[1]
    fast, slow = both_paths(monkeypatch, None, body, header=f"Bearer cbm_{prefix}_wrong")
    assert fast == slow and fast[0] == 401
    revoke_token(actor=SYSTEM, token=ApiToken.objects.get(prefix=prefix))
    fast, slow = both_paths(monkeypatch, world["server"], body)
    assert fast == slow and fast[0] == 401
    assert spy == []


_json_text = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["0003*001", "\x00", "\ud800", "a" * 64, "a" * 65, ""]),
)
_json_value = st.one_of(st.none(), st.booleans(), st.integers(), _json_text)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "extension": st.one_of(_json_text, _json_value),
                "caller_id": st.one_of(_json_text, _json_value),
                "other": _json_value,
            },
        ),
        st.lists(_json_value, max_size=2),
        _json_value,
    )
)
def test_the_fast_checks_accept_only_what_the_schema_accepts_unchanged(data):
    try:
        body = json.dumps(data).encode()
    except UnicodeEncodeError:  # pragma: no cover - json.dumps escapes surrogates
        return
    fields = authorize_view.plain_fields(body)
    if fields is None:
        return
    validated = AuthorizeRequest.model_validate(json.loads(body))
    assert (validated.extension, validated.caller_id) == fields
