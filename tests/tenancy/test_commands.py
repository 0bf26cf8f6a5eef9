"""Operator commands: createreseller, createuser and seed_demo's tenancy part."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tenancy.models import AuditEvent, Organization, Reseller

pytestmark = pytest.mark.django_db
User = get_user_model()
GOOD_PASSWORD = "operator-chosen-passphrase-9"


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_createreseller_creates_and_says_so():
    output = run("createreseller", "Acme Telecom", "--max-active-callerids", "10")
    reseller = Reseller.objects.get(name="Acme Telecom")
    assert reseller.max_active_callerids == 10 and not reseller.may_grant_unlimited
    assert 'Created reseller "Acme Telecom"' in output
    assert AuditEvent.objects.get(action="reseller.create").actor_label == "system"


def test_createreseller_refuses_a_duplicate_ignoring_case():
    run("createreseller", "Acme")
    with pytest.raises(CommandError, match='A reseller named "Acme" already exists'):
        run("createreseller", "ACME")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "Enter the reseller's name"),
        (["X", "--max-active-callerids", "-3"], "must be 0 or more"),
        (["X", "--max-active-callerids", "many"], "invalid whole_number value"),
        (["X", "--max-active-callerids", "\u0661\u0660"], "invalid whole_number value"),  # ١٠
    ],
)
def test_createreseller_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("createreseller", *args)


def test_createuser_takes_the_password_from_the_environment(monkeypatch, reseller_a):
    monkeypatch.setenv("DJANGO_USER_PASSWORD", GOOD_PASSWORD)
    output = run("createuser", "carol", "--role", "reseller", "--reseller", "reseller a")
    carol = User.objects.get(username="carol")
    assert carol.check_password(GOOD_PASSWORD)
    assert carol.profile.reseller == reseller_a
    assert 'Created user "carol" with role reseller for reseller "Reseller A"' in output
    assert GOOD_PASSWORD not in str(list(AuditEvent.objects.values("before", "after")))


def test_createuser_prompts_on_a_terminal(monkeypatch):
    monkeypatch.delenv("DJANGO_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": GOOD_PASSWORD)
    output = run("createuser", "root2", "--role", "admin")
    assert "role admin for the whole server" in output
    assert User.objects.get(username="root2").profile.role == "admin"


def test_createuser_fails_clearly_without_terminal_or_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="No password: set DJANGO_USER_PASSWORD"):
        run("createuser", "carol", "--role", "staff")
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "reseller"], "must be bound to a reseller"),
        (["x", "--role", "reseller", "--reseller", "Nope"], 'no reseller named "Nope"'),
        (["x", "--role", "admin", "--reseller", "Reseller A"], "do not choose a reseller"),
        (["x", "--role", "boss"], "invalid choice"),
        (["x"], "--role"),
        (["alice", "--role", "staff"], 'A user named "alice" already exists'),
        (["bad name!", "--role", "staff"], "Enter a valid username"),
    ],
)
def test_createuser_refuses_bad_input(monkeypatch, reseller_a_user, args, message):
    monkeypatch.setenv("DJANGO_USER_PASSWORD", GOOD_PASSWORD)
    with pytest.raises(CommandError, match=message):
        run("createuser", *args)


def test_createuser_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("DJANGO_USER_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        run("createuser", "carol", "--role", "staff")


def test_the_demo_seed_is_idempotent_and_prints_the_logins():
    from demo import tenancy as demo

    first = io.StringIO()
    demo.seed(first)
    demo.seed(io.StringIO())
    acme = Reseller.objects.get(name="Acme Telecom")
    blue = Reseller.objects.get(name="Blue Voice")
    assert acme.may_grant_unlimited and acme.max_active_callerids == 500
    assert not blue.may_grant_unlimited and blue.max_active_callerids == 200
    assert Organization.objects.filter(reseller=acme).count() == 2
    assert Organization.objects.filter(reseller=blue).count() == 2
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {"admin", "reseller-acme", "reseller-blue", "staff-acme", "staff-server"}
    assert User.objects.get(username="staff-acme").profile.reseller == acme
    assert User.objects.get(username="staff-server").profile.reseller is None
    assert User.objects.get(username="admin").check_password(demo.DEMO_PASSWORD)
    text = first.getvalue()
    assert demo.DEMO_PASSWORD in text and "reseller-blue" in text
