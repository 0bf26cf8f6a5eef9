"""The Check step (SPEC §5.2): every kind of bad line, totals, the license room."""

from decimal import Decimal

import pytest

from callerids.importing.services import check_import
from callerids.models import AuthorizedCallerID, CallerIDStatus, ImportJob, License
from tenancy.audit import Actor
from tenancy.models import ChargingPreferences

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def preferences(db):
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )


@pytest.fixture
def license_room(db):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 1000})


def check(user, extension, text, *, separator=",", name="numbers.csv"):
    content = text.encode() if isinstance(text, str) else text
    return check_import(
        actor=Actor(user=user),
        extension=extension,
        content=content,
        file_name=name,
        separator=separator,
    )


def reasons(job):
    return {error["line"]: error["message"] for error in job.report["errors"]}


def test_a_good_file_gives_counts_totals_and_a_preview(reseller_a_user, extension_a, license_room):
    job = check(
        reseller_a_user,
        extension_a,
        "Callback number,PIN,Order number,Initial credit\n"
        "0721 000 123,1234,ORD-1,10.50\n"
        "+40721000124,,,u\n"
        "0721000125,,,\n"
        "0721000126,,,0\n",
    )
    report = job.report
    assert report["ok"], report
    assert (report["count"], report["unlimited"], report["total_credit"]) == (4, 2, "10.5000")
    assert report["header"] and report["lines"] == 4
    assert report["preview"][0] == {
        "parsed": True,
        "line": 2,
        "number": "+40721000123",
        "pin": True,
        "order": "ORD-1",
        "credit": "10.5000",
        "unlimited": False,
        "error": "",
    }
    assert report["preview"][1]["unlimited"]
    assert job.rows  # kept for Confirm
    assert AuthorizedCallerID.objects.count() == 0  # Check saves no CallerID


def test_no_plain_pin_is_kept_between_the_steps(reseller_a_user, extension_a, license_room):
    import zlib

    job = check(reseller_a_user, extension_a, "0721000123,98765432\n")
    assert b"98765432" not in zlib.decompress(bytes(job.rows))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("abc,1234,,1", "Bad number: Use only digits"),
        ("12,1234,,1", "Bad number: A callback number has 3 to 15 digits"),
        ("0721000123,12,,1", "Bad PIN: a PIN has 4 to 10 digits"),
        ("0721000123,12345678901,,1", "Bad PIN"),
        ("0721000123,12a4,,1", "Bad PIN"),
        ("0721000123,,,1,5", "Too many fields (5)"),
        ("0721000123,,,1.5.5", "Bad credit: Enter a number"),
        ('0721000123,,,"1,5"', "Bad credit: Use a dot"),
        ("0721000123,,,-1", "Bad credit: Enter an amount of 0 or more"),
        ("0721000123,,,1.555", "Bad credit: Use at most 2 decimals"),
        ("0721000123,,,1000000.01", "Bad credit: One operation moves at most 1,000,000.00 EUR."),
        ("0721000123,,,1000001", "Bad credit: One operation moves at most 1,000,000.00 EUR."),
        ("0721000123,,,lots", "Bad credit: Enter a number"),
        ("0721000123,," + "X" * 65 + ",1", "Bad order number: at most 64 characters"),
    ],
)
def test_each_kind_of_bad_line_is_reported_with_its_line(
    admin_user, extension_a, license_room, line, reason
):
    job = check(admin_user, extension_a, f"0721000999,,,1\n{line}\n")
    assert not job.report["ok"]
    assert list(reasons(job)) == [2]
    assert reason in reasons(job)[2]
    assert job.report["count"] == 1
    assert not job.rows  # nothing kept: Confirm is not offered


def test_a_line_with_several_problems_lists_them_all(admin_user, extension_a, license_room):
    job = check(admin_user, extension_a, "abc,12,,-1\n")
    message = reasons(job)[1]
    assert "Bad number" in message and "Bad PIN" in message and "Bad credit" in message


def test_a_blank_line_in_the_middle_is_bad(admin_user, extension_a, license_room):
    job = check(admin_user, extension_a, "0721000123\n\n0721000124\n\n")
    assert reasons(job) == {2: "Empty line: remove it."}


def test_a_duplicate_inside_the_file_names_the_first_line(admin_user, extension_a, license_room):
    job = check(admin_user, extension_a, "0721000123,,,1\n0721000124,,,1\n+40 721 000 123,,,1\n")
    assert reasons(job) == {
        3: "Duplicate inside the file: the same number as line 1 (+40721000123)."
    }


def test_a_number_already_on_the_extension_is_bad_unless_removed(
    admin_user, extension_a, extension_b, license_room
):
    for number, status, extension in [
        ("+40721000123", CallerIDStatus.ENABLED, extension_a),
        ("+40721000124", CallerIDStatus.DISABLED, extension_a),
        ("+40721000125", CallerIDStatus.REMOVED, extension_a),
        ("+40721000126", CallerIDStatus.ENABLED, extension_b),
    ]:
        AuthorizedCallerID.objects.create(
            extension=extension, number=number, status=status, available=0, total=0
        )
    job = check(
        admin_user, extension_a, "0721000123,,,1\n0721000124,,,1\n0721000125,,,1\n0721000126,,,1\n"
    )
    assert reasons(job) == {
        1: "Already on this extension: +40721000123.",
        2: "Already on this extension: +40721000124.",
    }


def test_empty_credit_is_unlimited_only_for_users_who_may_grant_it(
    reseller_a_user, reseller_b_user, extension_a, extension_b, license_room
):
    assert check(reseller_a_user, extension_a, "0721000123\n").report["unlimited"] == 1
    job = check(
        reseller_b_user, extension_b, "0721000123\n0721000124,,,U\n0721000125,,,Unlimited\n"
    )
    assert reasons(job) == {
        1: "Bad credit: empty. Enter an amount (you may not grant Unlimited).",
        2: "Bad credit: you may not grant Unlimited.",
        3: "Bad credit: you may not grant Unlimited.",
    }


def test_unlimited_words_are_read_in_any_case(admin_user, extension_a, license_room):
    job = check(admin_user, extension_a, "0721000123,,,U\n0721000124,,,UnLiMiTeD\n")
    assert job.report["ok"] and job.report["unlimited"] == 2


def test_the_file_needing_more_than_the_server_room_is_refused_as_a_whole(admin_user, extension_a):
    License.objects.update_or_create(
        pk=1, defaults={"max_active_callerids": 5, "active_callerids": 3}
    )
    job = check(admin_user, extension_a, "0721000121\n0721000122\n0721000123\n")
    assert not job.report["ok"]
    assert job.report["errors"] == []
    assert job.report["room_error"] == (
        "No license room: the file adds 3 CallerIDs but only 2 more can be added "
        "(the server has 2 left)."
    )
    assert check(admin_user, extension_a, "0721000121\n0721000122\n").report["ok"]


def test_the_reseller_share_limits_the_room(reseller_a_user, reseller_a, extension_a, license_room):
    reseller_a.max_active_callerids = 4
    reseller_a.active_callerids = 3
    reseller_a.save()
    job = check(reseller_a_user, extension_a, "0721000121\n0721000122\n")
    assert "only 1 more can be added" in job.report["room_error"]
    assert "the share of Reseller A has 1 left" in job.report["room_error"]


def test_semicolon_csv_and_xlsx_give_the_same_report(admin_user, extension_a, license_room):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["number", "pin", "order", "credit"])
    workbook.active.append([40721000123, "0123", 77, 5])
    out = io.BytesIO()
    workbook.save(out)
    from_xlsx = check(admin_user, extension_a, out.getvalue(), name="n.xlsx").report
    from_csv = check(
        admin_user, extension_a, "number;pin;order;credit\n40721000123;0123;77;5\n", separator=";"
    ).report
    assert from_xlsx["ok"] and from_csv["ok"]
    assert from_xlsx["preview"] == from_csv["preview"]
    assert from_xlsx["preview"][0]["number"] == "+40721000123"


def test_xlsx_pin_from_a_short_numeric_cell_is_refused(admin_user, extension_a, license_room):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["0721000123", 123, "", 1])
    workbook.active.append(["0721000124", 1234, "", 1])
    out = io.BytesIO()
    workbook.save(out)
    job = check(admin_user, extension_a, out.getvalue(), name="n.xlsx")
    assert "store the PIN column as text" in reasons(job)[1]
    assert list(reasons(job)) == [1]


def test_old_jobs_are_dropped_when_a_new_file_is_checked(admin_user, extension_a, license_room):
    from datetime import timedelta

    from django.utils import timezone

    old = check(admin_user, extension_a, "0721000123\n")
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    check(admin_user, extension_a, "0721000124\n")
    assert not ImportJob.objects.filter(pk=old.pk).exists()


def test_total_credit_is_exact_decimal(admin_user, extension_a, license_room):
    lines = "".join(f"07210001{n:02d},,,0.10\n" for n in range(30))
    job = check(admin_user, extension_a, lines)
    assert Decimal(job.report["total_credit"]) == Decimal("3.00")
