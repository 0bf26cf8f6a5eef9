"""POST /api/v1/callback/authorize: every decision and reason code, in the SPEC's order."""

from decimal import Decimal

import pytest

from callback.models import OutboundCallerIDMode, ReturnMode
from callerids.models import CallerIDStatus
from tests.api.conftest import UNLIMITED, add_callerid

pytestmark = pytest.mark.django_db

CALLER = "+40721000123"


def authorize(api, caller_id=CALLER, extension="0003*001"):
    return api.post("/callback/authorize", {"extension": extension, "caller_id": caller_id})


def test_it_calls_back_an_authorized_callerid_with_everything_the_pbx_needs(
    server_api, extension_a
):
    extension_a.disconnect_sound = "credit-finished"
    extension_a.save()
    callerid = add_callerid(extension_a, CALLER, credit=Decimal("12.5"), pin="1234")
    status, body = authorize(server_api)
    assert status == 200
    assert body == {
        "decision": "callback",
        "callback_number": CALLER,
        "trigger_after_seconds": 5,
        "dial_timeout_seconds": 10,
        "pin_required": True,
        "callerid_id": callerid.pk,
        "credit": {"unlimited": False, "available": "12.5000", "currency": "EUR"},
        "disconnect_sound": "credit-finished",
        "outbound_callerid": None,
    }


@pytest.mark.parametrize("typed", ["0721 000 123", "+40721000123", "0040721000123", "0721-000.123"])
def test_it_normalizes_the_caller_like_the_forms_do(server_api, extension_a, typed):
    callerid = add_callerid(extension_a, CALLER)
    status, body = authorize(server_api, typed)
    assert (status, body["decision"], body["callerid_id"]) == (200, "callback", callerid.pk)


def test_an_unlimited_callerid_has_no_available_amount(server_api, extension_a):
    add_callerid(extension_a, CALLER, credit=UNLIMITED)
    body = authorize(server_api)[1]
    assert body["credit"] == {"unlimited": True, "available": None, "currency": "EUR"}
    assert body["pin_required"] is False
    assert body["disconnect_sound"] is None


@pytest.mark.parametrize(
    "hidden",
    ["", "  ", None, "anonymous", "Anonymous", "UNKNOWN", "restricted", "Private", "unavailable"],
)
@pytest.mark.parametrize("mode", [ReturnMode.AUTHORIZED, ReturnMode.CALLER])
def test_a_hidden_caller_is_rejected_in_the_modes_that_use_the_number(
    server_api, extension_a, hidden, mode
):
    extension_a.return_mode = mode
    extension_a.save()
    add_callerid(extension_a, CALLER)
    assert authorize(server_api, hidden) == (
        200,
        {"decision": "reject", "reason": "hidden_callerid"},
    )


@pytest.mark.parametrize("hidden", ["", None, "anonymous", "Restricted"])
def test_a_hidden_caller_is_called_back_on_the_fixed_number(server_api, extension_a, hidden):
    extension_a.return_mode = ReturnMode.FIXED
    extension_a.fixed_number = "+40311000000"
    extension_a.save()
    status, body = authorize(server_api, hidden)
    assert status == 200
    assert body["decision"] == "callback"
    assert body["callback_number"] == "+40311000000"
    assert (body["callerid_id"], body["credit"], body["pin_required"]) == (None, None, False)


def test_a_number_not_in_the_list_is_not_authorized(server_api, extension_a):
    add_callerid(extension_a, "+40721000999")
    assert authorize(server_api)[1] == {"decision": "reject", "reason": "not_authorized"}


@pytest.mark.parametrize("junk", ["abc", "12", "+1", "x" * 2000, "١٢٣٤٥", "+4072\x00", "\ud800"])
def test_a_caller_value_that_does_not_normalize_is_not_authorized_never_400(
    server_api, extension_a, junk
):
    assert authorize(server_api, junk) == (200, {"decision": "reject", "reason": "not_authorized"})


def test_a_removed_callerid_is_not_in_the_list(server_api, extension_a):
    add_callerid(extension_a, CALLER, status=CallerIDStatus.REMOVED)
    assert authorize(server_api)[1]["reason"] == "not_authorized"


def test_the_same_number_on_another_extension_does_not_count(server_api, extension_a, org_a):
    from callback.models import CallbackExtension

    other = CallbackExtension.objects.create(organization=org_a, number="0003*002")
    add_callerid(other, CALLER)
    assert authorize(server_api)[1]["reason"] == "not_authorized"


@pytest.mark.parametrize("reason", ["", "locked"])
def test_a_disabled_or_locked_callerid_is_disabled(server_api, extension_a, reason):
    add_callerid(extension_a, CALLER, status=CallerIDStatus.DISABLED, status_reason=reason)
    assert authorize(server_api)[1] == {"decision": "reject", "reason": "disabled"}


@pytest.mark.parametrize("inactive", ["extension", "organization", "reseller"])
@pytest.mark.parametrize("mode", [ReturnMode.AUTHORIZED, ReturnMode.CALLER, ReturnMode.FIXED])
def test_anything_under_an_inactive_owner_is_disabled(server_api, extension_a, inactive, mode):
    extension_a.return_mode = mode
    extension_a.fixed_number = "+40311000000" if mode == ReturnMode.FIXED else ""
    extension_a.save()
    add_callerid(extension_a, CALLER)
    owner = {
        "extension": extension_a,
        "organization": extension_a.organization,
        "reseller": extension_a.organization.reseller,
    }[inactive]
    owner.active = False
    owner.save()
    assert authorize(server_api)[1] == {"decision": "reject", "reason": "disabled"}


@pytest.mark.parametrize(
    ("available", "minimum", "decision"),
    [
        ("0", "0", "reject"),
        ("0.0001", "0", "callback"),
        ("4.9999", "5", "reject"),
        ("5", "5", "callback"),
    ],
)
def test_no_credit_means_nothing_left_or_below_the_extension_minimum(
    server_api, extension_a, available, minimum, decision
):
    extension_a.min_credit = Decimal(minimum)
    extension_a.save()
    add_callerid(extension_a, CALLER, credit=Decimal(available))
    body = authorize(server_api)[1]
    assert body["decision"] == decision
    if decision == "reject":
        assert body["reason"] == "no_credit"


def test_an_unlimited_callerid_always_has_credit(server_api, extension_a):
    extension_a.min_credit = Decimal("100")
    extension_a.save()
    add_callerid(extension_a, CALLER, credit=UNLIMITED)
    assert authorize(server_api)[1]["decision"] == "callback"


def test_reasons_apply_in_the_spec_order(server_api, extension_a):
    extension_a.active = False
    extension_a.save()
    add_callerid(extension_a, CALLER, credit=Decimal("0"), status=CallerIDStatus.DISABLED)
    # hidden before disabled, not_authorized before disabled, disabled before no_credit
    assert authorize(server_api, "anonymous")[1]["reason"] == "hidden_callerid"
    assert authorize(server_api, "+40721000999")[1]["reason"] == "not_authorized"
    assert authorize(server_api)[1]["reason"] == "disabled"


def test_caller_mode_calls_back_the_normalized_caller_without_the_list(server_api, extension_a):
    extension_a.return_mode = ReturnMode.CALLER
    extension_a.save()
    status, body = authorize(server_api, "0721 000 555")
    assert status == 200
    assert body["decision"] == "callback"
    assert body["callback_number"] == "+40721000555"
    assert (body["callerid_id"], body["credit"], body["pin_required"]) == (None, None, False)


@pytest.mark.parametrize(
    ("mode", "configured", "expected"),
    [
        (OutboundCallerIDMode.SERVER, "", None),
        (OutboundCallerIDMode.USER, "+40311000111", "+40311000111"),
        (OutboundCallerIDMode.CALLER, "", CALLER),
    ],
)
def test_outbound_callerid_follows_the_extension_setting(
    server_api, extension_a, mode, configured, expected
):
    extension_a.outbound_callerid_mode = mode
    extension_a.outbound_callerid = configured
    extension_a.save()
    add_callerid(extension_a, CALLER)
    assert authorize(server_api, "0721 000 123")[1]["outbound_callerid"] == expected


def test_an_unknown_extension_is_404(server_api, extension_a):
    assert authorize(server_api, extension="9999") == (
        404,
        {"error": "unknown_extension", "detail": "No such callback extension."},
    )


def test_a_reseller_token_cannot_see_another_resellers_extension(api_a, extension_a, extension_b):
    add_callerid(extension_b, CALLER)
    status, body = authorize(api_a, extension="0004*001")
    assert (status, body["error"]) == (404, "unknown_extension")
    assert authorize(api_a)[0] == 200


def test_a_server_token_sees_every_reseller(server_api, extension_a, extension_b):
    add_callerid(extension_b, CALLER)
    assert authorize(server_api, extension="0004*001")[1]["decision"] == "callback"


def test_it_asks_the_database_a_handful_of_times(
    server_api, extension_a, django_assert_max_num_queries
):
    add_callerid(extension_a, CALLER)
    authorize(server_api)  # the first request records the token's last use
    with django_assert_max_num_queries(4):
        assert authorize(server_api)[1]["decision"] == "callback"


def test_authorize_changes_nothing(server_api, extension_a):
    callerid = add_callerid(extension_a, CALLER, pin="1234")
    authorize(server_api)
    callerid.refresh_from_db()
    assert (callerid.available, callerid.wrong_pin_count) == (Decimal("10"), 0)


@pytest.mark.parametrize("minimum", ["0", "0.0001", "2", "2.5"])
def test_no_credit_is_exactly_the_lists_no_credit_filter(server_api, extension_a, minimum):
    """SPEC §4: the list's "no credit left" filter is the predicate authorize answers with."""
    from callerids.filters import no_credit_q
    from callerids.models import AuthorizedCallerID

    extension_a.min_credit = Decimal(minimum)
    extension_a.save()
    amounts = ["0", "0.0001", "1.9999", "2", "2.4999", "2.5", "2.5001", "100"]
    for index, amount in enumerate(amounts):
        add_callerid(extension_a, f"+4072100{index:04d}", credit=Decimal(amount))
    add_callerid(extension_a, "+40721009999", credit=UNLIMITED)
    filtered = set(
        AuthorizedCallerID.objects.filter(no_credit_q()).values_list("number", flat=True)
    )
    answered = {
        callerid.number
        for callerid in AuthorizedCallerID.objects.all()
        if authorize(server_api, callerid.number)[1].get("reason") == "no_credit"
    }
    assert answered == filtered
    assert filtered  # the grid has both sides
