"""The Confirm step (SPEC §5.2): all or nothing, once, under the license lock."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction

from callerids.importing import progress, services
from callerids.importing.services import ImportChanged, check_import, confirm_import
from callerids.models import (
    AuthorizedCallerID,
    CallerIDStatus,
    ImportJob,
    ImportProgress,
    ImportState,
    License,
)
from callerids.pins import check_pin
from callerids.selectors import lock_license
from credit.models import LedgerEntry
from tenancy.audit import Actor
from tenancy.models import AuditEvent, ChargingPreferences, Reseller


@pytest.fixture
def preferences(db):
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )


def set_license(maximum: int, active: int = 0) -> None:
    License.objects.update_or_create(
        pk=1, defaults={"max_active_callerids": maximum, "active_callerids": active}
    )


def check(user, extension, text: str):
    return check_import(
        actor=Actor(user=user),
        extension=extension,
        content=text.encode(),
        file_name="numbers.csv",
        separator=",",
    )


def numbers_file(count: int, *, first: int = 0, credit: str = "1") -> str:
    return "".join(f"07210{first + n:05d},,,{credit}\n" for n in range(count))


@pytest.mark.django_db
class TestConfirm:
    @pytest.fixture(autouse=True)
    def setup(self, preferences):
        set_license(100)

    def test_it_saves_every_callerid_with_its_initial_ledger_row(
        self, reseller_a_user, reseller_a, extension_a
    ):
        job = check(
            reseller_a_user,
            extension_a,
            "number,pin,order,credit\n0721000123,1234,ORD-1,10.5\n0721000124,,,u\n",
        )
        outcome = confirm_import(actor=Actor(user=reseller_a_user), job=job)
        assert (outcome.count, outcome.unlimited, outcome.total_credit) == (
            2,
            1,
            Decimal("10.5"),
        )
        limited = AuthorizedCallerID.objects.get(number="+40721000123")
        assert limited.status == CallerIDStatus.ENABLED
        assert limited.extension == extension_a
        assert (limited.unlimited, limited.available, limited.total) == (
            False,
            Decimal("10.5"),
            Decimal("10.5"),
        )
        assert check_pin("1234", limited.pin_salt, limited.pin_hash)
        assert limited.created_by == reseller_a_user
        unlimited = AuthorizedCallerID.objects.get(number="+40721000124")
        assert (unlimited.unlimited, unlimited.available, unlimited.total) == (True, None, None)
        assert not unlimited.has_pin
        rows = {entry.callerid.number: entry for entry in LedgerEntry.objects.all()}
        assert len(rows) == 2
        first = rows["+40721000123"]
        assert (first.kind, first.amount, first.balance_after, first.order_number) == (
            "initial",
            Decimal("10.5"),
            Decimal("10.5"),
            "ORD-1",
        )
        assert (first.actor, first.actor_username) == (reseller_a_user, "alice")
        second = rows["+40721000124"]
        assert (second.kind, second.amount, second.balance_after) == ("initial", None, None)
        assert License.objects.get().active_callerids == 2
        reseller_a.refresh_from_db()
        assert reseller_a.active_callerids == 2
        job.refresh_from_db()
        assert job.state == ImportState.IMPORTED and bytes(job.rows) == b""
        event = AuditEvent.objects.get(action="callerid.import")
        assert event.after == {
            "count": 2,
            "unlimited": 1,
            "with_pin": 1,
            "total_credit": "10.5000",
            "file_name": "numbers.csv",
        }
        assert event.reseller == reseller_a and event.actor == reseller_a_user

    def test_order_numbers_keep_special_characters(self, admin_user, extension_a):
        order = 'A\\B\t"C"\u00e9'
        text = '0721000123,,"' + order.replace('"', '""') + '",1\n0721000124,,,1\n'
        job = check(admin_user, extension_a, text)
        assert job.report["ok"], job.report
        confirm_import(actor=Actor(user=admin_user), job=job)
        orders = dict(LedgerEntry.objects.values_list("callerid__number", "order_number"))
        assert orders == {"+40721000123": order, "+40721000124": ""}

    def test_a_zero_credit_gets_an_initial_row_of_zero(self, admin_user, extension_a):
        job = check(admin_user, extension_a, "0721000123,,,0\n")
        confirm_import(actor=Actor(user=admin_user), job=job)
        entry = LedgerEntry.objects.get()
        assert (entry.kind, entry.amount, entry.balance_after) == ("initial", 0, 0)

    def test_confirming_twice_imports_once(self, admin_user, extension_a):
        job = check(admin_user, extension_a, numbers_file(3))
        confirm_import(actor=Actor(user=admin_user), job=job)
        again = confirm_import(actor=Actor(user=admin_user), job=ImportJob.objects.get(pk=job.pk))
        assert again.already_imported and again.count == 3
        # Even with a stale copy of the job that still says "checked":
        stale = confirm_import(actor=Actor(user=admin_user), job=job)
        assert stale.already_imported
        assert AuthorizedCallerID.objects.count() == 3
        assert License.objects.get().active_callerids == 3
        assert AuditEvent.objects.filter(action="callerid.import").count() == 1

    def test_a_mixed_file_saves_nothing(self, admin_user, extension_a):
        job = check(admin_user, extension_a, "0721000123,,,1\nabc,,,1\n0721000124,,,1\n")
        with pytest.raises(ImportChanged):
            confirm_import(actor=Actor(user=admin_user), job=job)
        assert AuthorizedCallerID.objects.count() == 0
        assert LedgerEntry.objects.count() == 0
        assert License.objects.get().active_callerids == 0

    def test_a_number_added_between_check_and_confirm_saves_nothing_and_is_reported(
        self, admin_user, extension_a
    ):
        job = check(admin_user, extension_a, numbers_file(3))
        AuthorizedCallerID.objects.create(
            extension=extension_a, number="+40721000001", available=0, total=0
        )
        with pytest.raises(ImportChanged) as raised:
            confirm_import(actor=Actor(user=admin_user), job=job)
        assert raised.value.report["errors"] == [
            {"line": 2, "message": "Already on this extension: +40721000001."}
        ]
        assert AuthorizedCallerID.objects.count() == 1
        job.refresh_from_db()
        assert job.state == ImportState.CHECKED
        assert not job.report["ok"] and bytes(job.rows) == b""

    def test_a_license_lowered_after_the_check_saves_nothing(self, admin_user, extension_a):
        job = check(admin_user, extension_a, numbers_file(3))
        set_license(2)
        with pytest.raises(ImportChanged) as raised:
            confirm_import(actor=Actor(user=admin_user), job=job)
        # The refusal of every status change (issue 17): the same rule, the same words.
        assert raised.value.report["room_error"] == "Importing 3 would exceed the license by 1."
        assert not raised.value.report["ok"]
        assert raised.value.report["room"]["server_left"] == 2
        assert AuthorizedCallerID.objects.count() == 0

    def test_a_reseller_share_used_up_after_the_check_saves_nothing(
        self, reseller_a_user, reseller_a, extension_a
    ):
        job = check(reseller_a_user, extension_a, numbers_file(3))
        Reseller.objects.filter(pk=reseller_a.pk).update(max_active_callerids=2)
        with pytest.raises(ImportChanged) as raised:
            confirm_import(actor=Actor(user=reseller_a_user), job=job)
        assert raised.value.report["room_error"] == (
            "Importing 3 would exceed the share of the license of Reseller A by 1."
        )
        assert raised.value.report["room"]["reseller_left"] == 2
        assert AuthorizedCallerID.objects.count() == 0

    def test_unlimited_permission_withdrawn_after_the_check_saves_nothing(
        self, reseller_a_user, reseller_a, extension_a
    ):
        job = check(reseller_a_user, extension_a, "0721000123,,,u\n")
        Reseller.objects.filter(pk=reseller_a.pk).update(may_grant_unlimited=False)
        with pytest.raises(ImportChanged) as raised:
            confirm_import(actor=Actor(user=reseller_a_user), job=job)
        assert "you may not grant Unlimited" in raised.value.report["errors"][0]["message"]
        assert AuthorizedCallerID.objects.count() == 0

    def test_fewer_decimals_after_the_check_saves_nothing(self, admin_user, extension_a):
        job = check(admin_user, extension_a, "0721000123,,,1.25\n")
        ChargingPreferences.objects.filter(pk=1).update(decimals=1)
        with pytest.raises(ImportChanged):
            confirm_import(actor=Actor(user=admin_user), job=job)
        assert AuthorizedCallerID.objects.count() == 0

    def test_a_new_default_country_is_a_change_then_confirms_with_the_new_numbers(
        self, admin_user, extension_a
    ):
        job = check(admin_user, extension_a, "0721000123,,,1\n")
        ChargingPreferences.objects.filter(pk=1).update(default_country="")
        with pytest.raises(ImportChanged) as raised:
            confirm_import(actor=Actor(user=admin_user), job=job)
        assert raised.value.report["ok"]
        assert AuthorizedCallerID.objects.count() == 0
        job.refresh_from_db()
        confirm_import(actor=Actor(user=admin_user), job=job)
        assert AuthorizedCallerID.objects.get().number == "0721000123"

    def test_a_job_with_errors_cannot_be_confirmed(self, admin_user, extension_a):
        job = check(admin_user, extension_a, "abc\n")
        with pytest.raises(ImportChanged):
            confirm_import(actor=Actor(user=admin_user), job=job)

    def test_read_only_roles_cannot_confirm(self, admin_user, staff_a_user, extension_a):
        from django.core.exceptions import PermissionDenied

        job = check(admin_user, extension_a, "0721000123\n")
        with pytest.raises(PermissionDenied):
            confirm_import(actor=Actor(user=staff_a_user), job=job)

    def test_an_inactive_extension_may_still_get_callerids(self, admin_user, extension_a):
        extension_a.active = False
        extension_a.save()
        job = check(admin_user, extension_a, "0721000123\n")
        confirm_import(actor=Actor(user=admin_user), job=job)
        assert AuthorizedCallerID.objects.filter(extension=extension_a).count() == 1

    def test_many_lines_are_saved_in_batches_with_few_queries(
        self, admin_user, extension_a, monkeypatch, django_assert_max_num_queries
    ):
        set_license(5000)
        monkeypatch.setattr(services, "BATCH_SIZE", 500)
        job = check(admin_user, extension_a, numbers_file(2000))
        # Independent of the line count: a few queries per batch of 500 lines.
        with django_assert_max_num_queries(120):
            confirm_import(actor=Actor(user=admin_user), job=job)
        assert AuthorizedCallerID.objects.count() == 2000
        assert LedgerEntry.objects.count() == 2000
        assert License.objects.get().active_callerids == 2000


# --- PostgreSQL: concurrency and the progress row ------------------------------------------


def minimal_add(extension, number: str) -> bool:
    """A single add as every writer does it: License, then Reseller, room check, insert."""
    try:
        with transaction.atomic():
            license = lock_license()
            reseller = Reseller.objects.select_for_update().get(
                pk=extension.organization.reseller_id
            )
            if license.active_callerids >= license.max_active_callerids:
                return False
            if (
                reseller.max_active_callerids is not None
                and reseller.active_callerids >= reseller.max_active_callerids
            ):
                return False
            AuthorizedCallerID.objects.create(
                extension=extension, number=number, available=0, total=0
            )
            License.objects.filter(pk=1).update(active_callerids=license.active_callerids + 1)
            Reseller.objects.filter(pk=reseller.pk).update(
                active_callerids=reseller.active_callerids + 1
            )
            return True
    finally:
        connection.close()


def confirm_in_thread(user, job) -> str:
    try:
        confirm_import(actor=Actor(user=user), job=job)
        return "imported"
    except ImportChanged:
        return "changed"
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("share", [None, 60])
def test_single_adds_racing_the_confirm_never_pass_the_license(
    preferences, admin_user, reseller_a, extension_a, share
):
    set_license(60 if share is None else 1000)
    Reseller.objects.filter(pk=reseller_a.pk).update(max_active_callerids=share)
    job = check(admin_user, extension_a, numbers_file(50))
    assert job.report["ok"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        confirm = pool.submit(confirm_in_thread, admin_user, job)
        adds = [pool.submit(minimal_add, extension_a, f"+4075500{n:04d}") for n in range(15)]
        added = sum(future.result() for future in adds)
        result = confirm.result()
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    license = License.objects.get()
    reseller_a.refresh_from_db()
    assert enabled == license.active_callerids == reseller_a.active_callerids
    assert enabled <= 60
    if result == "imported":
        assert enabled == 50 + added and added <= 10
    else:
        assert enabled == added and added == 15  # adds came first and took the room
        assert AuthorizedCallerID.objects.filter(number__startswith="+4072100").count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirms_of_one_job_at_once_import_once(preferences, admin_user, extension_a):
    set_license(1000)
    job = check(admin_user, extension_a, numbers_file(100))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: confirm_in_thread(admin_user, job), range(4)))
    assert results == ["imported"] * 4
    assert AuthorizedCallerID.objects.count() == 100
    assert License.objects.get().active_callerids == 100
    assert AuditEvent.objects.filter(action="callerid.import").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_number_added_by_someone_else_before_the_confirm_is_reported(
    preferences, admin_user, extension_a
):
    set_license(1000)
    job = check(admin_user, extension_a, numbers_file(20))
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(minimal_add, extension_a, "+40721000007").result()
    assert confirm_in_thread(admin_user, job) == "changed"
    job.refresh_from_db()
    assert job.report["errors"] == [
        {"line": 8, "message": "Already on this extension: +40721000007."}
    ]
    assert AuthorizedCallerID.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_while_the_confirm_runs(
    preferences, admin_user, extension_a, monkeypatch
):
    set_license(1000)
    monkeypatch.setattr(services, "BATCH_SIZE", 100)
    job = check(admin_user, extension_a, numbers_file(300))
    seen = []
    original = progress.SideChannel.update

    def read_elsewhere():
        try:
            row = ImportProgress.objects.get(token=job.token)
            visible = AuthorizedCallerID.objects.count()
            return row.phase, row.done, row.total, visible
        finally:
            connection.close()

    def update_and_look(self, phase, done):
        original(self, phase, done)
        with ThreadPoolExecutor(max_workers=1) as pool:
            seen.append(pool.submit(read_elsewhere).result())

    monkeypatch.setattr(progress.SideChannel, "update", update_and_look)
    confirm_import(actor=Actor(user=admin_user), job=job)
    # Progress moves while the CallerIDs themselves stay invisible until the commit.
    assert [entry[:3] for entry in seen] == [
        ("saving", 0, 300),
        ("saving", 100, 300),
        ("saving", 200, 300),
        ("saving", 300, 300),
        ("saving", 300, 300),
    ]
    assert all(entry[3] == 0 for entry in seen)
    assert ImportProgress.objects.get(token=job.token).phase == progress.DONE
    assert AuthorizedCallerID.objects.count() == 300


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_progress_connection_does_not_fail_the_import(
    preferences, admin_user, extension_a, monkeypatch
):
    set_license(1000)
    job = check(admin_user, extension_a, numbers_file(10))
    original_init = progress.SideChannel.__init__

    def broken_init(self, token, *, enabled):
        original_init(self, token, enabled=enabled)
        if self.wrapper is not None:
            self.wrapper.settings_dict["NAME"] = "cbm_no_such_database"

    monkeypatch.setattr(progress.SideChannel, "__init__", broken_init)
    confirm_import(actor=Actor(user=admin_user), job=job)
    assert AuthorizedCallerID.objects.count() == 10
    assert ImportProgress.objects.get(token=job.token).phase == progress.DONE
