"""tenancy.services.tokens: the token's shape, what the server keeps, revoking."""

import hashlib

import pytest

from tenancy.audit import SYSTEM, Actor
from tenancy.models import ApiToken, AuditEvent
from tenancy.services.tokens import (
    authenticate_token,
    create_token,
    revoke_token,
    split_token,
)
from values.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_token_reads_cbm_prefix_secret_and_only_a_hash_is_kept(reseller_a):
    created = create_token(actor=SYSTEM, name="  pbx1  ", reseller=reseller_a)
    prefix, secret = split_token(created.plaintext)
    assert created.plaintext == f"cbm_{prefix}_{secret}"
    token = ApiToken.objects.get()
    assert (token.name, token.prefix, token.reseller) == ("pbx1", prefix, reseller_a)
    assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get())
    assert len(secret) >= 40


def test_creating_writes_an_audit_event_without_the_secret(admin_user):
    created = create_token(
        actor=Actor(user=admin_user, address="192.0.2.1"), name="pbx", reseller=None
    )
    event = AuditEvent.objects.get(action="api_token.create")
    assert (event.actor, event.address, event.object_id) == (
        admin_user,
        "192.0.2.1",
        str(created.token.pk),
    )
    assert event.after["reseller"] == "whole server"
    assert split_token(created.plaintext)[1] not in str(event.after)
    assert created.token.created_by == admin_user


def test_an_empty_name_is_refused(db):
    with pytest.raises(DomainError):
        create_token(actor=SYSTEM, name="   ", reseller=None)


def test_two_tokens_have_different_prefixes_and_secrets(db):
    one = create_token(actor=SYSTEM, name="a", reseller=None).plaintext
    two = create_token(actor=SYSTEM, name="b", reseller=None).plaintext
    assert split_token(one)[0] != split_token(two)[0]
    assert split_token(one)[1] != split_token(two)[1]


def test_authenticate_accepts_only_the_exact_live_token(db):
    created = create_token(actor=SYSTEM, name="pbx", reseller=None)
    assert authenticate_token(created.plaintext, address=None) == created.token
    assert authenticate_token(created.plaintext + "x", address=None) is None
    assert authenticate_token(created.plaintext[:-1], address=None) is None
    assert authenticate_token("", address=None) is None
    revoke_token(actor=SYSTEM, token=created.token)
    assert authenticate_token(created.plaintext, address=None) is None


def test_revoking_twice_writes_one_event(db):
    token = create_token(actor=SYSTEM, name="pbx", reseller=None).token
    first = revoke_token(actor=SYSTEM, token=token).revoked_at
    assert revoke_token(actor=SYSTEM, token=token).revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
