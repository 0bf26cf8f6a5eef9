"""Fixtures of the API tests: tokens (tests.factories), CallerIDs and a JSON client.

add_callerid writes the CallerID with the ORM, with its `initial` ledger row and the
license and reseller counters, on purpose: these tests need balances the add form refuses
(4 decimals, 9,999,999,999.9999) to test the API's arithmetic at its edges."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.pins import hash_pin
from callerids.selectors import get_license
from credit import ledger
from credit.models import LedgerKind
from tenancy.audit import SYSTEM
from tenancy.models import Reseller
from tenancy.preferences import get_preferences
from tests import factories

UNLIMITED = None


def add_callerid(
    extension,
    number: str,
    *,
    credit: Decimal | None = Decimal("10.0000"),
    pin: str = "",
    status: str = CallerIDStatus.ENABLED,
    status_reason: str = "",
) -> AuthorizedCallerID:
    """A CallerID with its initial ledger row; enabled ones count in the license and reseller."""
    with transaction.atomic():
        salt, digest = hash_pin(pin) if pin else ("", "")
        callerid = AuthorizedCallerID.objects.create(
            extension=extension,
            number=number,
            pin_salt=salt,
            pin_hash=digest,
            status=status,
            status_reason=status_reason,
            unlimited=credit is None,
            available=credit,
            total=credit,
        )
        ledger.append(
            callerid=callerid,
            kind=LedgerKind.INITIAL,
            amount=credit,
            balance_after=credit,
            actor=SYSTEM,
        )
        if status == CallerIDStatus.ENABLED:
            get_license()
            license_row = License.objects.select_for_update().get(pk=1)
            license_row.active_callerids += 1
            license_row.save()
            reseller = Reseller.objects.select_for_update().get(
                pk=extension.organization.reseller_id
            )
            reseller.active_callerids += 1
            reseller.save()
    return callerid


@pytest.fixture
def preferences(db):
    prefs = get_preferences()
    prefs.default_country = "RO"
    prefs.currency = "EUR"
    prefs.save()
    return prefs


@pytest.fixture
def make_token(db):
    """make_token(reseller=None) -> the plaintext of a new token (whole server by default;
    permissions: ["pbx"] by default)."""

    def make(reseller=None, name="pbx1", permissions=("pbx",)) -> str:
        return factories.token(reseller, name, permissions).plaintext

    return make


class ApiClient:
    """Posts JSON to /api/v1/ with a bearer token; returns (status, parsed body)."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.token = token

    def _headers(self, token):
        token = self.token if token is ... else token
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def post(self, path: str, body, *, token=...):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        response = self.client.post(
            f"/api/v1{path}", data, content_type="application/json", **self._headers(token)
        )
        return response.status_code, response.json()

    def get(self, path: str, *, token=...):
        response = self.client.get(f"/api/v1{path}", **self._headers(token))
        return response.status_code, response.json()


@pytest.fixture
def server_api(make_token, preferences):
    """A client with a whole-server token."""
    return ApiClient(make_token())


@pytest.fixture
def api_a(make_token, preferences, reseller_a):
    """A client with reseller A's token."""
    return ApiClient(make_token(reseller_a, name="pbx-a"))


@pytest.fixture
def api_b(make_token, preferences, reseller_b):
    """A client with reseller B's token."""
    return ApiClient(make_token(reseller_b, name="pbx-b"))


@pytest.fixture(autouse=True)
def _fresh_preferences():
    """The API keeps the charging preferences for a few seconds per process: a test must
    not see the copy of a previous test's (rolled back) row."""
    from tenancy.preferences import forget_cached_preferences

    forget_cached_preferences()
    yield
    forget_cached_preferences()
