"""The setup form's field rules and refusals, posted as each role (SPEC §3)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from callback.models import CallbackExtension, ReturnMode
from tenancy.models import AuditEvent, Organization
from tenancy.preferences import get_preferences

pytestmark = pytest.mark.django_db


def setup_data(organization, /, **overrides):
    data = {
        "organization": organization.pk,
        "number": "0003*010",
        "name": "Sales",
        "active": "on",
        "trigger_after_seconds": "5",
        "return_mode": "authorized",
        "fixed_number": "",
        "disconnect_sound": "",
        "min_credit": "0",
        "pin_lock_limit": "5",
        "dial_timeout_seconds": "10",
        "max_call_duration_seconds": "3600",
        "max_calls_per_callerid": "1",
        "max_calls": "",
        "daily_limit": "",
        "outbound_callerid_mode": "server",
        "outbound_callerid": "",
    }
    data.update(overrides)
    return data


def create(client, organization, **overrides):
    return client.post(reverse("callback:extension_create"), setup_data(organization, **overrides))


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


def test_a_reseller_creates_an_extension_with_an_audit_event(client_for, org_a):
    response = create(client_for("reseller_a"), org_a)
    extension = CallbackExtension.objects.get(number="0003*010")
    assert response.status_code == 302
    assert response["Location"] == reverse("callback:extension_detail", args=[extension.pk])
    assert extension.organization == org_a
    assert extension.return_mode == ReturnMode.AUTHORIZED
    event = AuditEvent.objects.get(action="extension.create")
    assert event.actor.username == "alice"
    assert event.reseller == org_a.reseller
    assert event.before is None
    assert event.after["number"] == "0003*010"
    assert event.after["min_credit"] == "0"


def test_the_form_shows_the_four_fieldsets(client_for, org_a):
    content = client_for("admin").get(reverse("callback:extension_create")).content.decode()
    for legend in [
        "Account",
        "Callback number behavior",
        "Service security",
        "CallerID management",
    ]:
        assert f"<legend>{legend}</legend>" in content
    assert "0 allows unlimited PIN guessing" in content
    assert "js/extension_form.js" in content


@pytest.mark.parametrize("number", ["0003*001", "1", "1234567890*1234567890", "42"])
def test_it_accepts_extension_numbers_of_the_right_format(client_for, org_a, number):
    response = create(client_for("admin"), org_a, number=number)
    assert response.status_code == 302
    assert CallbackExtension.objects.filter(number=number).exists()


@pytest.mark.parametrize(
    "number",
    ["", "abc", "0003*", "*001", "12345678901", "1*2*3", "0003-001", "+4021", "1*12345678901"],
)
def test_it_refuses_extension_numbers_of_the_wrong_format(client_for, org_a, number):
    response = create(client_for("admin"), org_a, number=number)
    assert response.status_code == 200
    assert field_errors(response, "number")
    assert not CallbackExtension.objects.exists()


def test_it_refuses_a_number_used_on_the_server_with_a_clear_error(client_for, org_a, extension_b):
    response = create(client_for("reseller_a"), org_a, number=extension_b.number)
    assert field_errors(response, "number") == [
        "Extension number 0004*001 is already used on this server; choose another."
    ]
    content = response.content.decode()
    assert 'id="id_number_error"' in content
    assert "already used on this server" in content


@pytest.mark.parametrize("field", ["trigger_after_seconds", "dial_timeout_seconds"])
@pytest.mark.parametrize("value,ok", [("0", False), ("1", True), ("60", True), ("61", False)])
def test_seconds_fields_take_1_to_60(client_for, org_a, field, value, ok):
    response = create(client_for("admin"), org_a, **{field: value})
    assert (response.status_code == 302) is ok
    if not ok:
        assert field_errors(response, field)


@pytest.mark.parametrize(
    "value,ok", [("-1", False), ("0", True), ("20", True), ("21", False), ("x", False)]
)
def test_pin_lock_limit_takes_0_to_20(client_for, org_a, value, ok):
    response = create(client_for("admin"), org_a, pin_lock_limit=value)
    assert (response.status_code == 302) is ok
    if not ok:
        assert field_errors(response, "pin_lock_limit")


@pytest.mark.parametrize(
    "value,ok",
    [
        ("0", True),
        ("2.5", True),
        ("2.50", True),
        ("2.505", False),
        ("-0.01", False),
        ("1,5", False),
        ("abc", False),
        ("99999999999", False),
    ],
)
def test_min_credit_is_not_negative_with_at_most_the_shown_decimals(client_for, org_a, value, ok):
    response = create(client_for("admin"), org_a, min_credit=value)
    assert (response.status_code == 302) is ok
    if ok:
        assert CallbackExtension.objects.get().min_credit == Decimal(value)
    else:
        assert field_errors(response, "min_credit")


def test_min_credit_decimals_follow_the_charging_preferences(client_for, org_a):
    preferences = get_preferences()
    preferences.decimals = 0
    preferences.save()
    response = create(client_for("admin"), org_a, min_credit="2.5")
    assert field_errors(response, "min_credit") == ["Enter a whole amount (no decimals)."]


def test_a_fixed_number_is_required_with_to_a_fixed_number(client_for, org_a):
    response = create(client_for("admin"), org_a, return_mode="fixed", fixed_number=" ")
    assert field_errors(response, "fixed_number") == [
        "Enter the number where calls should be returned."
    ]


def test_a_fixed_number_is_normalized_with_the_default_country(client_for, org_a):
    preferences = get_preferences()
    preferences.default_country = "RO"
    preferences.save()
    create(client_for("admin"), org_a, return_mode="fixed", fixed_number="0721 000 123")
    assert CallbackExtension.objects.get().fixed_number == "+40721000123"


def test_a_bad_fixed_number_is_refused_next_to_the_field(client_for, org_a):
    response = create(client_for("admin"), org_a, return_mode="fixed", fixed_number="12ab")
    assert field_errors(response, "fixed_number")
    assert not CallbackExtension.objects.exists()


def test_a_fixed_number_sent_with_another_mode_is_dropped(client_for, org_a):
    create(client_for("admin"), org_a, return_mode="authorized", fixed_number="+40721000123")
    assert CallbackExtension.objects.get().fixed_number == ""


def test_switching_away_from_a_fixed_number_clears_it(client_for, extension_a):
    client = client_for("reseller_a")
    url = reverse("callback:extension_edit", args=[extension_a.pk])
    org = extension_a.organization
    client.post(
        url,
        setup_data(
            org, number=extension_a.number, return_mode="fixed", fixed_number="+40721000123"
        ),
    )
    extension_a.refresh_from_db()
    assert extension_a.fixed_number == "+40721000123"
    client.post(
        url,
        setup_data(
            org, number=extension_a.number, return_mode="authorized", fixed_number="+40721000123"
        ),
    )
    extension_a.refresh_from_db()
    assert extension_a.return_mode == ReturnMode.AUTHORIZED
    assert extension_a.fixed_number == ""
    event = AuditEvent.objects.filter(action="extension.update").first()
    assert event.before["fixed_number"] == "+40721000123"
    assert event.after["fixed_number"] == ""


def test_only_admins_are_offered_the_caller_mode_with_its_warning(client_for, org_a):
    admin_page = client_for("admin").get(reverse("callback:extension_create")).content.decode()
    reseller_page = client_for("reseller_a").get(reverse("callback:extension_create"))
    assert "to the caller callerID</label>" in admin_page
    assert "spoofed premium-rate number" in admin_page
    assert "to the caller callerID</label>" not in reseller_page.content.decode()


def test_an_admin_may_choose_to_the_caller_callerid(client_for, org_a):
    response = create(client_for("admin"), org_a, return_mode="caller")
    assert response.status_code == 302
    assert CallbackExtension.objects.get().return_mode == ReturnMode.CALLER


def test_a_reseller_posting_to_the_caller_callerid_is_refused_with_the_reason(client_for, org_a):
    response = create(client_for("reseller_a"), org_a, return_mode="caller")
    assert response.status_code == 200
    assert field_errors(response, "return_mode") == [
        "Only administrators may choose “to the caller callerID”: it calls back any caller "
        "at the operator's cost. Choose another mode."
    ]
    assert not CallbackExtension.objects.exists()


def test_a_reseller_cannot_save_an_extension_in_caller_mode_until_it_changes_mode(
    client_for, extension_a
):
    extension_a.return_mode = ReturnMode.CALLER
    extension_a.save()
    client = client_for("reseller_a")
    url = reverse("callback:extension_edit", args=[extension_a.pk])
    page = client.get(url).content.decode()
    assert "to the caller callerID</label>" in page  # the current mode, with the reason
    assert "Only administrators may choose" in page
    data = setup_data(extension_a.organization, number=extension_a.number, name="Renamed")
    refused = client.post(url, {**data, "return_mode": "caller"})
    assert field_errors(refused, "return_mode")
    extension_a.refresh_from_db()
    assert extension_a.name == "A main"
    assert client.post(url, data).status_code == 302
    extension_a.refresh_from_db()
    assert (extension_a.name, extension_a.return_mode) == ("Renamed", ReturnMode.AUTHORIZED)


def test_an_organization_outside_the_scope_is_an_invalid_choice(client_for, org_a, org_b):
    response = create(client_for("reseller_a"), org_b)
    assert field_errors(response, "organization") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not CallbackExtension.objects.exists()


def test_an_inactive_organization_is_not_offered_for_a_new_extension(client_for, org_a):
    Organization.objects.filter(pk=org_a.pk).update(active=False)
    response = create(client_for("reseller_a"), org_a)
    assert field_errors(response, "organization")


def test_the_reseller_sees_only_its_organizations_in_the_choice(client_for, org_a, org_b):
    content = client_for("reseller_a").get(reverse("callback:extension_create")).content.decode()
    assert "Org A1" in content
    assert "Org B1" not in content


def test_set_by_user_needs_a_normalized_callerid_number(client_for, org_a):
    client = client_for("admin")
    missing = create(client, org_a, outbound_callerid_mode="user", outbound_callerid="")
    assert field_errors(missing, "outbound_callerid")
    bad = create(client, org_a, outbound_callerid_mode="user", outbound_callerid="+1")
    assert field_errors(bad, "outbound_callerid")
    create(client, org_a, outbound_callerid_mode="user", outbound_callerid="0040 721-000.123")
    assert CallbackExtension.objects.get().outbound_callerid == "+40721000123"


def test_a_callerid_number_sent_with_another_mode_is_dropped(client_for, org_a):
    create(
        client_for("admin"),
        org_a,
        outbound_callerid_mode="caller",
        outbound_callerid="+40721000123",
    )
    extension = CallbackExtension.objects.get()
    assert (extension.outbound_callerid_mode, extension.outbound_callerid) == ("caller", "")


@pytest.mark.parametrize(
    "sound,ok", [("custom/credit-over.wav", True), ("../etc", False), ("a b", False), ("", True)]
)
def test_the_disconnect_sound_is_a_plain_file_name(client_for, org_a, sound, ok):
    response = create(client_for("admin"), org_a, disconnect_sound=sound)
    assert (response.status_code == 302) is ok


def test_unknown_choices_and_garbage_never_give_a_500(client_for, org_a):
    client = client_for("admin")
    response = client.post(
        reverse("callback:extension_create"),
        setup_data(
            org_a,
            organization="x",
            return_mode="nope",
            outbound_callerid_mode="",
            trigger_after_seconds="1e9",
            min_credit="NaN",
        ),
    )
    assert response.status_code == 200
    for field in [
        "organization",
        "return_mode",
        "outbound_callerid_mode",
        "trigger_after_seconds",
        "min_credit",
    ]:
        assert field_errors(response, field), field


def test_editing_keeps_the_number_of_the_extension_itself(client_for, extension_a):
    url = reverse("callback:extension_edit", args=[extension_a.pk])
    response = client_for("reseller_a").post(
        url, setup_data(extension_a.organization, number=extension_a.number, name="New name")
    )
    assert response.status_code == 302
    extension_a.refresh_from_db()
    assert extension_a.name == "New name"


def test_the_edit_form_shows_the_current_setup(client_for, extension_a):
    extension_a.min_credit = Decimal("1.5000")
    extension_a.save()
    content = (
        client_for("reseller_a")
        .get(reverse("callback:extension_edit", args=[extension_a.pk]))
        .content.decode()
    )
    assert 'value="0003*001"' in content
    assert 'value="1.5"' in content


def test_an_empty_post_shows_what_is_missing(client_for, org_a):
    response = client_for("admin").post(reverse("callback:extension_create"), {})
    assert response.status_code == 200
    assert field_errors(response, "number") == ["This field is required."]
    assert field_errors(response, "organization") == ["This field is required."]


def test_the_call_admission_limits_are_saved_shown_and_audited(client_for, org_a):
    client = client_for("reseller_a")
    create(
        client,
        org_a,
        max_call_duration_seconds="600",
        max_calls_per_callerid="2",
        max_calls="5",
        daily_limit="3.50",
    )
    extension = CallbackExtension.objects.get(number="0003*010")
    assert (
        extension.max_call_duration_seconds,
        extension.max_calls_per_callerid,
        extension.max_calls,
        extension.daily_limit,
    ) == (600, 2, 5, Decimal("3.5"))
    event = AuditEvent.objects.get(action="extension.create")
    assert (event.after["max_calls"], event.after["daily_limit"]) == (5, "3.50")
    page = client.get(reverse("callback:extension_detail", args=[extension.pk])).content.decode()
    for text in ("600 s", "3.50 EUR", "Calls in progress"):
        assert text in page
    form = client.get(reverse("callback:extension_edit", args=[extension.pk])).content.decode()
    for help_text in ("60 to 86,400 seconds", "Empty = no limit", "server time zone"):
        assert help_text in form


def test_empty_simultaneous_call_limits_mean_no_limit(client_for, org_a):
    create(client_for("admin"), org_a, max_calls_per_callerid="", daily_limit="")
    extension = CallbackExtension.objects.get(number="0003*010")
    assert (extension.max_calls_per_callerid, extension.daily_limit) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_call_duration_seconds", "59"),
        ("max_call_duration_seconds", "86401"),
        ("max_calls_per_callerid", "0"),
        ("max_calls", "0"),
        ("daily_limit", "-1"),
        ("daily_limit", "1.005"),
    ],
)
def test_call_admission_limits_out_of_range_are_refused(client_for, org_a, field, value):
    response = create(client_for("admin"), org_a, **{field: value})
    assert response.status_code == 200
    assert field_errors(response, field)
    assert not CallbackExtension.objects.filter(number="0003*010").exists()


# --- whole numbers and money as typed (issue 16) -----------------------------------------

NON_ASCII_DIGITS = ["\u0661", "\u0665", "\uff15", "\u096b", "1\u0660"]  # ١ ٥ ５ ५ 1٠


WHOLE_NUMBER_FIELDS = [
    "trigger_after_seconds",
    "pin_lock_limit",
    "dial_timeout_seconds",
    "max_call_duration_seconds",
    "max_calls_per_callerid",
    "max_calls",
]


@pytest.mark.parametrize("field", WHOLE_NUMBER_FIELDS)
@pytest.mark.parametrize("value", NON_ASCII_DIGITS)
def test_whole_number_settings_take_ascii_digits_only(client_for, org_a, field, value):
    response = create(client_for("admin"), org_a, **{field: value})
    assert response.status_code == 200
    assert field_errors(response, field) == ["Enter a whole number with the digits 0 to 9."]
    assert not CallbackExtension.objects.exists()


@pytest.mark.parametrize("field", ["min_credit", "daily_limit"])
@pytest.mark.parametrize("value", NON_ASCII_DIGITS)
def test_amount_settings_take_ascii_digits_only(client_for, org_a, field, value):
    response = create(client_for("admin"), org_a, **{field: value})
    assert response.status_code == 200
    assert field_errors(response, field)
    assert not CallbackExtension.objects.exists()


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Do not call back if available credit is below", "min_credit"),
        ("Daily spending limit per CallerID", "daily_limit"),
    ],
)
def test_amount_settings_show_the_currency_beside_them(client_for, org_a, label, name):
    preferences = get_preferences()
    preferences.currency = "USD"
    preferences.save()
    html = client_for("admin").get(reverse("callback:extension_create")).content.decode()
    start = html.index(label)
    field = html.index(f'name="{name}"', start)
    group_end = html.index("</div>", field)
    assert re.search(r'<span class="input-group-text"[^>]*>USD</span>', html[start : group_end + 6])


def test_a_too_large_minimum_credit_names_the_limit_as_pages_show_money(client_for, org_a):
    response = create(client_for("admin"), org_a, min_credit="10000000000")
    assert field_errors(response, "min_credit") == [
        "Enter at most 9,999,999,999.99 EUR.",
    ]
