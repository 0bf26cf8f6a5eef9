"""The scoping helpers added for the tenancy pages, and races on the tenancy services."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from callerids.selectors import get_license
from callerids.services.license import update_license
from tenancy import scoping
from tenancy.audit import SYSTEM
from tenancy.models import AuditEvent, Reseller
from tenancy.services import tenancy as services
from values.errors import DomainError


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "outcome"),
    [
        ("admin", "ok"),
        ("reseller_a", "403"),
        ("reseller_b", "404"),
        ("staff_a", "403"),
        ("staff_server", "403"),
        ("anonymous", "404"),
    ],
)
def test_get_reseller_for_user_hides_others_and_forbids_non_admins(cast, reseller_a, role, outcome):
    try:
        scoping.get_reseller_for_user(cast[role], reseller_a.pk, write=True)
        result = "ok"
    except PermissionDenied:
        result = "403"
    except Http404:
        result = "404"
    assert result == outcome


@pytest.mark.django_db
def test_writable_resellers_are_all_for_admins_own_for_resellers_none_for_staff(
    cast, reseller_a, reseller_b
):
    assert set(scoping.writable_resellers_for(cast["admin"])) == {reseller_a, reseller_b}
    assert list(scoping.writable_resellers_for(cast["reseller_a"])) == [reseller_a]
    assert not scoping.writable_resellers_for(cast["staff_a"]).exists()
    assert not scoping.writable_resellers_for(cast["staff_server"]).exists()
    assert not scoping.writable_resellers_for(None).exists()


@pytest.mark.django_db
def test_get_user_for_admin_is_403_before_it_looks_anything_up(cast):
    with pytest.raises(PermissionDenied):
        scoping.get_user_for_admin(cast["reseller_a"], 999999)
    with pytest.raises(Http404):
        scoping.get_user_for_admin(cast["admin"], 999999)


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        except DomainError:
            return "refused"
        finally:
            connection.close()

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_creations_of_one_reseller_name_give_one_reseller_and_clear_refusals():
    names = [f"Race {'x' if i % 2 else 'X'}" for i in range(16)]
    create = _in_thread(lambda name: services.create_reseller(actor=SYSTEM, name=name))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(create, names))
    assert Reseller.objects.filter(name__iexact="race x").count() == 1
    assert results.count("refused") == 15
    assert AuditEvent.objects.filter(action="reseller.create").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_license_updates_are_applied_one_after_the_other():
    get_license()
    update = _in_thread(
        lambda value: update_license(actor=SYSTEM, max_active_callerids=value).license
    )
    values = list(range(101, 121))
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(update, values))
    events = list(AuditEvent.objects.filter(action="license.update").order_by("id"))
    assert len(events) == 20
    # Each update saw the value the previous one wrote: the chain is unbroken.
    for previous, current in zip(events, events[1:], strict=False):
        assert current.before == previous.after
    assert get_license().max_active_callerids == events[-1].after["max_active_callerids"]
