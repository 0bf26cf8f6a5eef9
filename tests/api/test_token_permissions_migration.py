"""A token made without naming its permissions is a PBX token only (SPEC §13).

The migration that once gave tokens made before permissions existed this default is gone
with the reset to fresh initial migrations; the columns' defaults still say it."""

import pytest

from tenancy.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_token_without_permissions_is_pbx_only():
    ApiToken.objects.create(name="old pbx", prefix="0123abcd", secret_sha256="0" * 64)
    token = ApiToken.objects.get(prefix="0123abcd")
    assert (token.may_pbx, token.may_provision) == (True, False)
