"""manage.py create_api_token "<name>" [--reseller "<name>"]."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenancy.models import ApiToken
from tenancy.services.tokens import authenticate_token

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_it_prints_a_working_whole_server_token_once(db):
    output = run("pbx1")
    plaintext = output.strip().splitlines()[-1]
    token = authenticate_token(plaintext, address=None)
    assert token == ApiToken.objects.get()
    assert token.reseller is None
    assert "whole server" in output
    assert output.count(plaintext) == 1


def test_it_scopes_a_token_to_a_reseller_by_name_in_any_case(reseller_a):
    output = run("pbx-a", "--reseller", "reseller a")
    assert ApiToken.objects.get().reseller == reseller_a
    assert "Reseller A" in output


def test_an_unknown_reseller_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No reseller named"):
        run("pbx", "--reseller", "Nobody")
    assert not ApiToken.objects.exists()


def test_an_empty_name_is_a_clear_error(db):
    with pytest.raises(CommandError, match="Enter a name"):
        run("  ")


def test_a_token_gets_pbx_unless_told_otherwise(db):
    run("pbx1")
    assert ApiToken.objects.get().permissions == ["pbx"]


def test_permissions_are_chosen_with_repeated_options(db):
    output = run("shop", "--permission", "pbx", "--permission", "provisioning")
    assert ApiToken.objects.get().permissions == ["pbx", "provisioning"]
    assert "(pbx, provisioning)" in output
    run("crm", "--permission", "provisioning")
    assert ApiToken.objects.get(name="crm").permissions == ["provisioning"]


def test_an_unknown_permission_is_a_clear_error(db):
    with pytest.raises(CommandError, match="invalid choice"):
        run("x", "--permission", "admin")
    assert not ApiToken.objects.exists()
