"""One function per rule (issue 17): each rule's one function, tested on its own."""

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from callerids.importing.services import ImportChanged, check_import, confirm_import
from callerids.models import (
    AuthorizedCallerID,
    CallerIDStatus,
    License,
    status_label,
    status_label_sql,
)
from callerids.selectors import NO_ROOM, callerid_lock, get_license, lock_callerid, room_of
from callerids.services.callerids import enable_callerid
from credit.checks import counter_failures
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.models import Reseller
from values.errors import LicenseExceeded

LICENSE = SimpleNamespace(active_callerids=7, max_active_callerids=10)


def share(used, maximum, name="R"):
    return SimpleNamespace(name=name, active_callerids=used, max_active_callerids=maximum)


# --- license room ----------------------------------------------------------------------


def test_the_room_is_the_smaller_of_the_server_and_the_share():
    assert room_of(LICENSE).left == 3
    assert room_of(LICENSE, share(1, None)).left == 3  # no share of its own
    assert room_of(LICENSE, share(4, 5)).left == 1
    assert room_of(LICENSE, share(9, 5)).left == 0  # never negative
    room = room_of(LICENSE, share(4, 5))
    assert (room.server_left, room.reseller_left) == (3, 1)
    assert room.as_dict() == {"server_left": 3, "reseller_left": 1, "reseller_name": "R", "left": 1}


def test_the_room_shows_server_figures_only_to_server_wide_users():
    assert room_of(LICENSE, server_wide=True).text == (
        "7 of 10 active authorized CallerIDs used on this server"
    )
    assert (room_of(LICENSE, server_wide=True).used, room_of(LICENSE).used) == (7, None)
    assert room_of(LICENSE, share(4, 5)).text == "You can add 1 more"
    assert (NO_ROOM.left, NO_ROOM.text) == (0, "You can add 0 more")


def test_the_refusals_name_the_cap_and_the_excess():
    room = room_of(LICENSE, share(4, 5, name="Reseller A"))
    assert room.server_refusal(3, verb="Enabling") == ""
    assert room.server_refusal(5, verb="Enabling") == "Enabling 5 would exceed the license by 2."
    assert room.share_refusal(1, verb="Adding") == ""
    assert room.share_refusal(3, verb="Importing") == (
        "Importing 3 would exceed the share of the license of Reseller A by 2."
    )
    # A license lowered below the count refuses any increase, by the whole excess.
    lowered = room_of(SimpleNamespace(active_callerids=12, max_active_callerids=10))
    assert lowered.left == 0
    assert lowered.server_refusal(1, verb="Adding") == "Adding 1 would exceed the license by 3."
    assert lowered.server_refusal(0, verb="Adding") == ""


# --- who may grant Unlimited -----------------------------------------------------------


@pytest.mark.parametrize(
    ("writes", "reseller", "expected"),
    [
        (True, None, True),  # admins, the system, a server-wide provisioning token
        (True, SimpleNamespace(may_grant_unlimited=False), False),  # a reseller that may not
        (False, None, False),  # server-wide staff, a token without provisioning
    ],
)
def test_who_may_grant_unlimited(writes, reseller, expected):
    assert scoping.grants_unlimited(writes=writes, reseller=reseller) is expected


def test_a_writer_for_a_reseller_that_may_grants_unlimited():
    allowed = SimpleNamespace(may_grant_unlimited=True)
    assert scoping.grants_unlimited(writes=True, reseller=allowed) is True
    assert scoping.grants_unlimited(writes=False, reseller=allowed) is False


@pytest.mark.django_db
def test_every_actor_goes_through_the_one_rule(cast, reseller_a, make_token_for):
    expected = {
        "admin": True,
        "reseller_a": True,
        "reseller_b": False,
        "staff_a": False,
        "staff_server": False,
    }
    for role, user in cast.items():
        assert scoping.may_grant_unlimited(user) is expected.get(role, False), role
        if user is not None:  # Actor(user=None) is the system
            assert scoping.actor_may_grant_unlimited(Actor(user=user)) is expected[role], role
    assert scoping.actor_may_grant_unlimited(Actor()) is True  # the system
    assert scoping.actor_may_grant_unlimited(Actor(token=make_token_for(None, provision=True)))
    assert scoping.actor_may_grant_unlimited(
        Actor(token=make_token_for(reseller_a, provision=True))
    )
    assert not scoping.actor_may_grant_unlimited(
        Actor(token=make_token_for(reseller_a, provision=False))
    )
    # A freshly locked reseller row wins over the profile cached on the user.
    withdrawn = Reseller.objects.get(pk=reseller_a.pk)
    withdrawn.may_grant_unlimited = False
    assert not scoping.may_grant_unlimited(cast["reseller_a"], reseller=withdrawn)


@pytest.fixture
def make_token_for(db):
    from tenancy.models import TokenPermission
    from tenancy.services.tokens import create_token

    def make(reseller, *, provision):
        permissions = (TokenPermission.PROVISIONING,) if provision else (TokenPermission.PBX,)
        return create_token(
            actor=Actor(), name="t", reseller=reseller, permissions=permissions
        ).token

    return make


# --- the status label --------------------------------------------------------------------


def test_the_status_label_names_the_reason_of_a_disabled_callerid():
    assert status_label(CallerIDStatus.ENABLED, "") == "Enabled"
    assert status_label(CallerIDStatus.DISABLED, "") == "Disabled"
    assert status_label(CallerIDStatus.DISABLED, "locked") == "Disabled (locked)"
    assert status_label(CallerIDStatus.ENABLED, "locked") == "Enabled"
    assert status_label(CallerIDStatus.REMOVED, "") == "Removed"
    assert status_label("other", "") == "other"


@pytest.mark.django_db
def test_the_status_label_in_sql_is_the_same_as_in_python():
    cases = [
        (status, reason) for status in [*CallerIDStatus.values, "other"] for reason in ("", "x)")
    ]
    sql, params = status_label_sql("s", "r")
    values = " UNION ALL ".join("SELECT %s AS s, %s AS r" for _ in cases)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM ({values}) AS t",
            [*params, *(part for case in cases for part in case)],
        )
        written = [row[0] for row in cursor.fetchall()]
    assert written == [status_label(status, reason) for status, reason in cases]


# --- the CallerID lock ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_callerid_lock_finds_the_row_in_its_scope_inside_a_transaction(extension_a):
    callerid = AuthorizedCallerID.objects.create(
        extension=extension_a, number="+40721000001", available=0, total=0
    )
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        lock_callerid(callerid.pk)
    with transaction.atomic():
        assert lock_callerid(callerid.pk) == callerid
        with pytest.raises(AuthorizedCallerID.DoesNotExist):
            lock_callerid(callerid.pk, scope=AuthorizedCallerID.objects.none())
    query = callerid_lock(AuthorizedCallerID.objects.all()).query
    assert query.select_for_update and query.select_for_update_of == ("self",)


# --- the import's Confirm refuses like enabling, under concurrency --------------------------


def _enable(user, callerid) -> str:
    try:
        enable_callerid(actor=Actor(user=user), callerid=callerid)
        return "enabled"
    except LicenseExceeded as exc:
        return str(exc.messages[0])
    finally:
        connection.close()


def _confirm(user, job) -> str:
    try:
        confirm_import(actor=Actor(user=user), job=job)
        return "imported"
    except ImportChanged as exc:
        return exc.report["room_error"]
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_enables_racing_the_confirm_share_one_rule_and_never_pass_the_license(
    admin_user, extension_a
):
    get_license()
    disabled = [
        AuthorizedCallerID.objects.create(
            extension=extension_a,
            number=f"+4075500{n:04d}",
            available=0,
            total=0,
            status=CallerIDStatus.DISABLED,
        )
        for n in range(15)
    ]
    License.objects.filter(pk=1).update(max_active_callerids=60, active_callerids=0)
    lines = "".join(f"07210{n:05d},,,1\n" for n in range(50))
    job = check_import(
        actor=Actor(user=admin_user),
        extension=extension_a,
        content=lines.encode(),
        file_name="n.csv",
        separator=",",
    )
    assert job.report["ok"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        confirm = pool.submit(_confirm, admin_user, job)
        enables = [pool.submit(_enable, admin_user, c) for c in disabled]
        outcomes = [future.result() for future in enables]
        result = confirm.result()
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    assert enabled == License.objects.get().active_callerids <= 60
    assert counter_failures() == []
    refused = [o for o in outcomes if o != "enabled"]
    if result == "imported":
        assert enabled == 50 + 15 - len(refused) and len(refused) == 5
        assert set(refused) == {"Enabling 1 would exceed the license by 1."}
    else:
        # The enables came first: the Confirm is refused with the enable's own words.
        assert result.startswith("Importing 50 would exceed the license by ")
        assert enabled == 15 and not refused
