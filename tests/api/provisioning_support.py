"""Helpers of the provisioning API tests: tokens with permissions, a JSON client that sends
any method and headers, CallerIDs made through the services."""

from __future__ import annotations

import json
from decimal import Decimal

from django.test import Client

from tenancy.audit import SYSTEM
from tenancy.services.tokens import create_token
from tests import factories

BOTH = ["pbx", "provisioning"]


def token(*, reseller=None, permissions=("provisioning",), name="shop") -> str:
    return create_token(
        actor=SYSTEM, name=name, reseller=reseller, permissions=list(permissions)
    ).plaintext


def callerid(extension, number="+40721000123", *, credit=Decimal("10"), unlimited=False, pin=""):
    return factories.callerid(extension, number, credit=credit, unlimited=unlimited, pin=pin)


class Api:
    """Sends JSON to /api/v1/ with a bearer token; returns (status, parsed body)."""

    def __init__(self, plaintext: str | None):
        self.client = Client()
        self.plaintext = plaintext

    def call(self, method: str, path: str, body=None, *, key: str | None = None, raw=None):
        headers = {}
        if self.plaintext:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.plaintext}"
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        response = self.client.generic(
            method, f"/api/v1{path}", data, content_type="application/json", **headers
        )
        return response.status_code, response.json()

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)
