"""The cast every test uses: admin, reseller A and B users, staff of A, server-wide staff,
anonymous; and the `postgres` marker (skipped with a reason when not on PostgreSQL)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Organization, Reseller, Role, UserProfile

PASSWORD = "correct-horse-battery-staple"
ROLES = ["admin", "reseller_a", "reseller_b", "staff_a", "staff_server", "anonymous"]


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/..."
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_charging_preferences():
    """The per-process copy of the charging preferences never outlives a test's database."""
    from tenancy.preferences import forget_cached_preferences

    forget_cached_preferences()
    yield
    forget_cached_preferences()


def make_user(username: str, role: str, reseller: Reseller | None = None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    UserProfile.objects.create(user=user, role=role, reseller=reseller)
    return user


@pytest.fixture
def reseller_a(db):
    return Reseller.objects.create(name="Reseller A", may_grant_unlimited=True)


@pytest.fixture
def reseller_b(db):
    return Reseller.objects.create(name="Reseller B")


@pytest.fixture
def org_a(reseller_a):
    return Organization.objects.create(reseller=reseller_a, name="Org A1")


@pytest.fixture
def org_b(reseller_b):
    return Organization.objects.create(reseller=reseller_b, name="Org B1")


@pytest.fixture
def admin_user(db):
    return make_user("admin", Role.ADMIN)


@pytest.fixture
def reseller_a_user(reseller_a):
    return make_user("alice", Role.RESELLER, reseller_a)


@pytest.fixture
def reseller_b_user(reseller_b):
    return make_user("bob", Role.RESELLER, reseller_b)


@pytest.fixture
def staff_a_user(reseller_a):
    return make_user("sam", Role.STAFF, reseller_a)


@pytest.fixture
def staff_server_user(db):
    return make_user("sue", Role.STAFF)


@pytest.fixture
def cast(admin_user, reseller_a_user, reseller_b_user, staff_a_user, staff_server_user):
    return {
        "admin": admin_user,
        "reseller_a": reseller_a_user,
        "reseller_b": reseller_b_user,
        "staff_a": staff_a_user,
        "staff_server": staff_server_user,
        "anonymous": None,
    }


@pytest.fixture
def client_for(cast):
    """client_for("reseller_a") -> a Client logged in as that member of the cast."""

    def make(role: str) -> Client:
        client = Client()
        user = cast[role]
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def extension_a(org_a):
    from callback.models import CallbackExtension

    return CallbackExtension.objects.create(organization=org_a, number="0003*001", name="A main")


@pytest.fixture
def extension_b(org_b):
    from callback.models import CallbackExtension

    return CallbackExtension.objects.create(organization=org_b, number="0004*001", name="B main")
