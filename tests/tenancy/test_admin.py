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


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda m: m.__name__)
def test_history_is_view_only(model, request_):
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request_)
    assert not model_admin.has_add_permission(request_)
    assert not model_admin.has_change_permission(request_)


def test_a_callerids_status_credit_and_pin_are_read_only(request_):
    readonly = set(admin.site._registry[AuthorizedCallerID].get_readonly_fields(request_))
    assert {"status", "available", "total", "unlimited", "pin_hash", "pin_salt"} <= readonly


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


@pytest.mark.parametrize(
    ("model", "parent"),
    [
        (Organization, "reseller"),
        (CallbackExtension, "organization"),
        (AuthorizedCallerID, "extension"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_an_existing_objects_parent_cannot_be_changed_in_the_admin(
    model, parent, request_, extension_a
):
    # Moving it would carry its CallerIDs and calls to another reseller and leave the
    # resellers' active-CallerID counters wrong.
    if model is Organization:
        existing = extension_a.organization
    elif model is CallbackExtension:
        existing = extension_a
    else:
        existing = AuthorizedCallerID.objects.create(
            extension=extension_a, number="+40721000111", available=0, total=0
        )
    model_admin = admin.site._registry[model]
    assert parent in model_admin.get_readonly_fields(request_, existing)
    assert parent not in model_admin.get_readonly_fields(request_, None)
