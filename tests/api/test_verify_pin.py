"""POST /api/v1/callback/verify-pin: every PIN path (SPEC §9)."""

import pytest

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from tenancy.models import AuditEvent
from tests.api.conftest import add_callerid

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"


def verify(api, callerid, pin):
    pk = callerid if isinstance(callerid, int) else callerid.pk
    return api.post("/callback/verify-pin", {"callerid_id": pk, "pin": pin})


@pytest.fixture
def with_pin(extension_a):
    return add_callerid(extension_a, CALLER, pin="1234")


def counters(callerid):
    callerid.refresh_from_db()
    reseller = callerid.extension.organization.reseller
    reseller.refresh_from_db()
    return License.objects.get(pk=1).active_callerids, reseller.active_callerids


def test_the_right_pin_is_ok(server_api, with_pin):
    assert verify(server_api, with_pin, "1234") == (200, {"result": "ok"})


def test_a_callerid_without_a_pin_answers_ok_to_anything(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER)
    assert verify(server_api, callerid, "0000") == (200, {"result": "ok"})


def test_a_wrong_pin_is_counted_and_says_how_many_are_left(server_api, with_pin):
    assert verify(server_api, with_pin, "9999") == (
        200,
        {"result": "pin_invalid", "attempts_left": 4},
    )
    assert verify(server_api, with_pin, "") == (200, {"result": "pin_invalid", "attempts_left": 3})
    with_pin.refresh_from_db()
    assert with_pin.wrong_pin_count == 2


def test_a_right_pin_resets_the_count(server_api, with_pin):
    verify(server_api, with_pin, "9999")
    verify(server_api, with_pin, "9999")
    assert verify(server_api, with_pin, "1234") == (200, {"result": "ok"})
    with_pin.refresh_from_db()
    assert with_pin.wrong_pin_count == 0
    assert verify(server_api, with_pin, "9999")[1]["attempts_left"] == 4


def test_the_wrong_pin_at_the_limit_locks_the_callerid(server_api, with_pin):
    assert counters(with_pin) == (1, 1)
    answers = [verify(server_api, with_pin, "9999")[1] for _ in range(5)]
    assert [a.get("attempts_left") for a in answers[:4]] == [4, 3, 2, 1]
    assert answers[4] == {"result": "locked"}
    with_pin.refresh_from_db()
    assert (with_pin.status, with_pin.status_reason, with_pin.wrong_pin_count) == (
        CallerIDStatus.DISABLED,
        "locked",
        5,
    )
    # It left the license count and its reseller's share in the same transaction.
    assert counters(with_pin) == (0, 0)
    event = AuditEvent.objects.get(action="callerid.lock")
    assert event.object_id == str(with_pin.pk)
    assert event.actor_label == "token:pbx1"
    assert event.after["status_reason"] == "locked"
    assert event.reseller == with_pin.extension.organization.reseller


def test_a_locked_callerid_answers_locked_to_every_pin_and_keeps_its_count(server_api, with_pin):
    for _ in range(5):
        verify(server_api, with_pin, "9999")
    assert verify(server_api, with_pin, "1234") == (200, {"result": "locked"})
    assert verify(server_api, with_pin, "9999") == (200, {"result": "locked"})
    with_pin.refresh_from_db()
    assert with_pin.wrong_pin_count == 5
    assert AuditEvent.objects.filter(action="callerid.lock").count() == 1
    assert counters(with_pin) == (0, 0)


def test_a_disabled_callerid_answers_locked_even_without_a_pin(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, status=CallerIDStatus.DISABLED)
    assert verify(server_api, callerid, "") == (200, {"result": "locked"})


def test_a_limit_of_0_never_locks_and_has_no_attempts_left(server_api, extension_a):
    extension_a.pin_lock_limit = 0
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, pin="1234")
    for _ in range(30):
        assert verify(server_api, callerid, "9999") == (
            200,
            {"result": "pin_invalid", "attempts_left": None},
        )
    callerid.refresh_from_db()
    assert callerid.status == CallerIDStatus.ENABLED
    assert verify(server_api, callerid, "1234") == (200, {"result": "ok"})


def test_a_limit_of_1_locks_on_the_first_wrong_pin(server_api, extension_a):
    extension_a.pin_lock_limit = 1
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, pin="1234")
    assert verify(server_api, callerid, "0000") == (200, {"result": "locked"})


def test_re_enabling_resets_the_lock(server_api, with_pin, admin_user):
    """Uses the CallerID services' enable (the "re-enable" a user does on the list page)."""
    from callerids.services.callerids import enable_callerid
    from tenancy.audit import Actor

    for _ in range(5):
        verify(server_api, with_pin, "9999")
    enable_callerid(actor=Actor(user=admin_user), callerid=with_pin.pk)
    with_pin.refresh_from_db()
    assert (with_pin.status, with_pin.status_reason, with_pin.wrong_pin_count) == (
        CallerIDStatus.ENABLED,
        "",
        0,
    )
    assert counters(with_pin) == (1, 1)
    assert verify(server_api, with_pin, "9999") == (
        200,
        {"result": "pin_invalid", "attempts_left": 4},
    )
    assert verify(server_api, with_pin, "1234") == (200, {"result": "ok"})


def test_a_removed_callerid_is_unknown(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, pin="1234", status=CallerIDStatus.REMOVED)
    assert verify(server_api, callerid, "1234") == (
        404,
        {"error": "unknown_callerid", "detail": "No such authorized CallerID."},
    )


def test_an_id_that_does_not_exist_is_unknown(server_api, with_pin):
    assert verify(server_api, with_pin.pk + 1000, "1234")[0] == 404


def test_a_reseller_token_cannot_check_another_resellers_pin(api_b, with_pin):
    status, body = verify(api_b, with_pin, "9999")
    assert (status, body["error"]) == (404, "unknown_callerid")
    assert AuthorizedCallerID.objects.get(pk=with_pin.pk).wrong_pin_count == 0


def test_the_owning_resellers_token_may(api_a, with_pin):
    assert verify(api_a, with_pin, "1234") == (200, {"result": "ok"})


@pytest.mark.parametrize(
    "body",
    [
        {"callerid_id": "1", "pin": "1234"},
        {"callerid_id": 1},
        {"pin": "1234"},
        {"callerid_id": 0, "pin": "1234"},
        {"callerid_id": 1, "pin": 1234},
        {"callerid_id": True, "pin": "1234"},
        {"callerid_id": 1.5, "pin": "1234"},
    ],
)
def test_bad_requests_are_malformed(server_api, with_pin, body):
    status, answer = server_api.post("/callback/verify-pin", body)
    assert (status, answer["error"]) == (400, "malformed")


@pytest.mark.parametrize("inactive", ["extension", "organization", "reseller"])
@pytest.mark.parametrize("pin", ["1234", "9999"])
def test_a_callerid_under_an_inactive_owner_answers_locked_and_keeps_its_count(
    server_api, with_pin, inactive, pin
):
    """SPEC §3: everything under an inactive extension, organization or reseller is refused
    by the API; the refusal of verify-pin is `locked`. The count and status do not move."""
    extension = with_pin.extension
    owner = {
        "extension": extension,
        "organization": extension.organization,
        "reseller": extension.organization.reseller,
    }[inactive]
    type(owner).objects.filter(pk=owner.pk).update(active=False)  # not a stale counter
    assert verify(server_api, with_pin, pin) == (200, {"result": "locked"})
    with_pin.refresh_from_db()
    assert (with_pin.status, with_pin.wrong_pin_count) == (CallerIDStatus.ENABLED, 0)
    assert counters(with_pin) == (1, 1)
