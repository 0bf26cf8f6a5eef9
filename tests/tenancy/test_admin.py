"""The Django admin: superusers only; history view-only; nothing with history deletable."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from callback.models import CallbackExtension, DestinationRules
from callerids.models import AuthorizedCallerID, License, SubmissionKey
from credit.models import Call, CallHold, LedgerEntry
from tenancy.models import (
    ApiToken,
    AuditEvent,
    ChargingPreferences,
    Organization,
    Reseller,
    UserProfile,
)

pytestmark = pytest.mark.django_db

VIEW_ONLY = [LedgerEntry, Call, AuditEvent, ApiToken, SubmissionKey, CallHold, DestinationRules]
EVERY_MODEL = [
    Reseller,
    Organization,
    UserProfile,
    CallbackExtension,
    AuditEvent,
    ApiToken,
    License,
    AuthorizedCallerID,
    ChargingPreferences,
    LedgerEntry,
    SubmissionKey,
    Call,
    CallHold,
    DestinationRules,
]


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password="x")


@pytest.fixture
def request_(superuser):
    request = RequestFactory().get("/django-admin/")
    request.user = superuser
    return request


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda m: m.__name__)
def test_every_model_is_registered_and_none_can_be_deleted(model, request_):
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(request_)


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda m: m.__name__)
def test_every_model_is_view_only_with_every_field_read_only(model, request_):
    # A change made here would skip the services: their rules and the audit log.
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request_)
    assert not model_admin.has_add_permission(request_)
    assert not model_admin.has_change_permission(request_)
    shown = {f.name for f in model._meta.fields} - set(model_admin.exclude or ())
    assert set(model_admin.get_readonly_fields(request_)) == shown


def test_a_callerids_status_credit_and_pin_are_read_only(request_):
    readonly = set(admin.site._registry[AuthorizedCallerID].get_readonly_fields(request_))
    assert {"status", "available", "total", "unlimited", "pin_hash", "pin_salt"} <= readonly


def test_a_tokens_secret_is_not_shown(request_):
    assert "secret_sha256" not in admin.site._registry[ApiToken].get_readonly_fields(request_)


def test_only_superusers_enter_the_admin(superuser, admin_user):
    staff_flag = get_user_model().objects.create_user("staffer", password="x", is_staff=True)
    for user, expected in ((admin_user, 302), (staff_flag, 302), (superuser, 200)):
        client = Client()
        client.force_login(user)
        assert client.get("/django-admin/").status_code == expected, user


@pytest.mark.parametrize(
    "path",
    [
        "tenancy/reseller/",
        "tenancy/organization/",
        "tenancy/auditevent/",
        "callerids/authorizedcallerid/",
        "credit/ledgerentry/",
        "credit/call/",
    ],
)
def test_admin_lists_render_for_a_superuser(superuser, org_a, path):
    client = Client()
    client.force_login(superuser)
    assert client.get(f"/django-admin/{path}").status_code == 200


def _admin_post(superuser, path, data):
    client = Client()
    client.force_login(superuser)
    return client.post(f"/django-admin/{path}", data)


def test_an_admin_post_changes_no_reseller_license_profile_or_extension(
    superuser, reseller_a, extension_a, admin_user
):
    from callerids.selectors import get_license

    license = get_license()
    profile = admin_user.profile
    events = AuditEvent.objects.count()
    posts = [
        (f"tenancy/reseller/{reseller_a.pk}/change/", {"name": "Renamed", "active": ""}),
        (f"callerids/license/{license.pk}/change/", {"max_active_callerids": "1"}),
        (f"tenancy/userprofile/{profile.pk}/change/", {"role": "staff"}),
        (
            f"callback/callbackextension/{extension_a.pk}/change/",
            {"number": "9999", "name": "Renamed", "active": ""},
        ),
        ("tenancy/reseller/add/", {"name": "New", "active": "on"}),
        (f"tenancy/reseller/{reseller_a.pk}/delete/", {"post": "yes"}),
    ]
    for path, data in posts:
        assert _admin_post(superuser, path, data).status_code == 403, path

    reseller_a.refresh_from_db()
    extension_a.refresh_from_db()
    profile.refresh_from_db()
    assert (reseller_a.name, reseller_a.active) == ("Reseller A", True)
    assert get_license().max_active_callerids == license.max_active_callerids
    assert profile.role == "admin"
    assert extension_a.active and extension_a.number != "9999"
    assert not Reseller.objects.filter(name="New").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "path",
    [
        "tenancy/reseller/{reseller}/change/",
        "tenancy/userprofile/{profile}/change/",
        "callback/callbackextension/{extension}/change/",
        "callerids/license/{license}/change/",
    ],
)
def test_the_change_page_shows_the_object_read_only(
    superuser, reseller_a, extension_a, admin_user, path
):
    from callerids.selectors import get_license

    client = Client()
    client.force_login(superuser)
    url = path.format(
        reseller=reseller_a.pk,
        profile=admin_user.profile.pk,
        extension=extension_a.pk,
        license=get_license().pk,
    )
    response = client.get(f"/django-admin/{url}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
