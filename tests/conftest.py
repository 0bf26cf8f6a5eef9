"""The cast every test uses: admin, reseller A and B users, staff of A, server-wide staff,
anonymous; and the `postgres` marker (skipped with a reason when not on PostgreSQL)."""

import pytest
from django.conf import settings
from django.test import Client

from tenancy.models import Reseller
from tests import factories

PASSWORD = factories.PASSWORD
ROLES = ["admin", "reseller_a", "reseller_b", "staff_a", "staff_server", "anonymous"]


def pytest_collection_modifyitems(config, items):
    if settings.IS_POSTGRES:
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
    return factories.user(username, role, reseller)


@pytest.fixture
def reseller_a(db):
    return factories.reseller("Reseller A", may_grant_unlimited=True)


@pytest.fixture
def reseller_b(db):
    return factories.reseller("Reseller B")


@pytest.fixture
def org_a(reseller_a):
    return factories.organization(reseller_a, "Org A1")


@pytest.fixture
def org_b(reseller_b):
    return factories.organization(reseller_b, "Org B1")


@pytest.fixture
def admin_user(db):
    return factories.admin("admin")


@pytest.fixture
def reseller_a_user(reseller_a):
    return factories.reseller_user(reseller_a, "alice")


@pytest.fixture
def reseller_b_user(reseller_b):
    return factories.reseller_user(reseller_b, "bob")


@pytest.fixture
def staff_a_user(reseller_a):
    return factories.staff(reseller_a, "sam")


@pytest.fixture
def staff_server_user(db):
    return factories.staff(None, "sue")


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
def extension_a(org_a, admin_user):
    """Reseller A's extension, made by the admin (only admins and resellers may)."""
    return factories.extension(org_a, "0003*001", "A main", by=admin_user)


@pytest.fixture
def extension_b(org_b, admin_user):
    return factories.extension(org_b, "0004*001", "B main", by=admin_user)


def audit_mark() -> int:
    """The newest audit event's id (0 when none): the set-up's events (tests.factories
    writes them as the services do) are the ones up to it."""
    from tenancy.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(mark: int):
    """The audit events written after audit_mark() returned `mark`, oldest first."""
    from tenancy.models import AuditEvent

    return AuditEvent.objects.filter(pk__gt=mark).order_by("pk")
