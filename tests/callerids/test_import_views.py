"""The import pages (SPEC §5.2): who may use them, the two steps through HTTP, query bounds."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from callerids.importing import progress
from callerids.importing.background import run_check_step
from callerids.importing.services import check_import
from callerids.models import AuthorizedCallerID, ImportJob, ImportProgress, License
from tenancy.audit import Actor
from tenancy.models import ChargingPreferences
from tests.tasks_support import using_task_backend

pytestmark = pytest.mark.django_db

WRITE_MATRIX = {
    "admin": 200,
    "reseller_a": 200,
    "reseller_b": 404,
    "staff_a": 403,
    "staff_server": 403,
    "anonymous": 302,
}


@pytest.fixture(autouse=True)
def setup(db):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 100})
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )


def upload(text: str | bytes, name: str = "numbers.csv", separator: str = ","):
    content = text.encode() if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, content), "separator": separator}


@pytest.fixture
def admin_job(admin_user, extension_a):
    return check_import(
        actor=Actor(user=admin_user),
        extension=extension_a,
        content=b"0721000123,1234,O-1,5\n0721000124\n",
        file_name="numbers.csv",
        separator=",",
    )


def job_urls(job):
    args = [job.extension_id, job.token]
    return {
        "report": reverse("callerids:import_report", args=args),
        "progress": reverse("callerids:import_progress", args=args),
        "errors": reverse("callerids:import_errors", args=args),
    }


# Who may open it (GET, and POST without fields): tests/test_url_permissions.py.


@pytest.mark.parametrize(("role", "status"), WRITE_MATRIX.items())
def test_who_may_upload(client_for, extension_a, role, status):
    response = client_for(role).post(
        reverse("callerids:import", args=[extension_a.pk]), upload("0721000123\n")
    )
    assert response.status_code == (302 if status == 200 else status)
    assert ImportJob.objects.count() == (1 if status == 200 else 0)


JOB_MATRIX = {**WRITE_MATRIX, "reseller_a": 404}  # another user's job is not found


@pytest.mark.parametrize(("role", "status"), JOB_MATRIX.items())
@pytest.mark.parametrize("page", ["report", "progress", "errors"])
def test_who_may_see_a_job(client_for, admin_job, role, status, page):
    response = client_for(role).get(job_urls(admin_job)[page])
    assert response.status_code == status


@pytest.mark.parametrize(("role", "status"), JOB_MATRIX.items())
def test_who_may_confirm_a_job(client_for, admin_job, role, status):
    url = reverse("callerids:import_confirm", args=[admin_job.extension_id, admin_job.token])
    response = client_for(role).post(url)
    assert response.status_code == (302 if status == 200 else status)
    assert AuthorizedCallerID.objects.count() == (2 if status == 200 else 0)


# Another user's job (SPEC §1: administrators see everything): an administrator may look
# at it, read-only; only its uploader confirms or retries it.


@pytest.fixture
def reseller_job(reseller_a_user, extension_a):
    return check_import(
        actor=Actor(user=reseller_a_user),
        extension=extension_a,
        content=b"0721000123,1234,O-1,5\n0721000124\n",
        file_name="alice.csv",
        separator=",",
    )


VIEW_MATRIX = {**WRITE_MATRIX}  # the uploader (reseller_a) and any administrator


@pytest.mark.parametrize(("role", "status"), VIEW_MATRIX.items())
@pytest.mark.parametrize("page", ["report", "progress", "errors"])
def test_who_may_look_at_a_resellers_job(client_for, reseller_job, role, status, page):
    response = client_for(role).get(job_urls(reseller_job)[page])
    assert response.status_code == status


@pytest.mark.parametrize("step", ["import_confirm", "import_retry"])
def test_an_administrator_may_not_confirm_or_retry_another_users_job(
    client_for, reseller_job, step
):
    url = reverse(f"callerids:{step}", args=[reseller_job.extension_id, reseller_job.token])
    assert client_for("admin").post(url).status_code == 404
    assert AuthorizedCallerID.objects.count() == 0
    assert ImportJob.objects.get().state == "checked"


def test_an_administrator_sees_another_users_report_without_its_confirm_button(
    client_for, reseller_job
):
    url = job_urls(reseller_job)["report"]
    html = client_for("admin").get(url).content.decode()
    assert "Import report: alice.csv" in html and 'data-testid="count">2<' in html
    assert "Uploaded by alice. You can look at this import; only alice can confirm" in html
    assert 'id="import-confirm"' not in html
    html = client_for("reseller_a").get(url).content.decode()
    assert 'id="import-confirm"' in html and 'data-testid="import-viewer"' not in html


def test_an_administrator_downloads_the_bad_lines_of_another_users_job(
    client_for, reseller_a_user, extension_a
):
    job = check_import(
        actor=Actor(user=reseller_a_user),
        extension=extension_a,
        content=b"0721000123\nnot a number\n",
        file_name="alice.csv",
        separator=",",
    )
    response = client_for("admin").get(job_urls(job)["errors"])
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line,reason" and lines[1].startswith("2,")


def test_an_administrator_sees_a_dead_import_of_another_user_without_retry(
    client_for, reseller_job
):
    ImportJob.objects.filter(pk=reseller_job.pk).update(state="confirming")
    ImportProgress.objects.update_or_create(
        token=reseller_job.token,
        defaults={
            "phase": "saving",
            "worker": "other-host:1:123",
            "updated_at": timezone.now() - progress.HEARTBEAT_STALE - timedelta(seconds=1),
        },
    )
    url = job_urls(reseller_job)["report"]
    html = client_for("admin").get(url).content.decode()
    assert 'data-testid="import-failed"' in html and "only alice can confirm or retry" in html
    assert "import_retry" not in html and "/retry/" not in html
    assert "/retry/" in client_for("reseller_a").get(url).content.decode()
    assert client_for("admin").get(job_urls(reseller_job)["progress"]).json()["state"] == "failed"


def test_a_job_of_another_extension_is_not_found(client_for, admin_job, admin_user, org_a):
    from callback.models import CallbackExtension

    other = CallbackExtension.objects.create(organization=org_a, number="0003*002")
    response = client_for("admin").get(
        reverse("callerids:import_report", args=[other.pk, admin_job.token])
    )
    assert response.status_code == 404


def test_the_upload_page_shows_the_room_left(client_for, extension_a, reseller_a):
    reseller_a.max_active_callerids = 10
    reseller_a.active_callerids = 7
    reseller_a.save()
    page = client_for("reseller_a").get(reverse("callerids:import", args=[extension_a.pk]))
    assert "You can add 3 more." in page.content.decode()
    page = client_for("admin").get(reverse("callerids:import", args=[extension_a.pk]))
    assert "0 of 100 active authorized CallerIDs used on this server." in page.content.decode()


def test_check_then_confirm_through_the_pages(client_for, extension_a):
    client = client_for("reseller_a")
    response = client.post(
        reverse("callerids:import", args=[extension_a.pk]),
        upload(
            "Number;PIN;Order;Credit\r\n0721000123;1234;O-1;5.25\r\n0721000124;;;u\r\n",
            separator=";",
        ),
    )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse(
        "callerids:import_report", args=[extension_a.pk, job.token]
    )
    report = client.get(response["Location"])
    html = report.content.decode()
    assert report.context["can_confirm"]
    assert "Confirm import" in html
    assert "+40721000123" in html and "5.25" in html and "Unlimited" in html
    confirmed = client.post(reverse("callerids:import_confirm", args=[extension_a.pk, job.token]))
    assert confirmed.status_code == 302
    done = client.get(confirmed["Location"])
    assert "Import done" in done.content.decode()
    html = done.content.decode()
    # One message says it (issue 22): the page's, no second flash message above it.
    assert html.count("Imported 2 authorized CallerIDs") == 1
    assert "Imported 2 authorized CallerIDs into callback extension 0003*001." in html
    assert AuthorizedCallerID.objects.count() == 2


def test_confirming_twice_imports_once(client_for, admin_job):
    url = reverse("callerids:import_confirm", args=[admin_job.extension_id, admin_job.token])
    response = client_for("admin").post(url)
    assert response["Location"] == job_urls(admin_job)["report"]
    again = client_for("admin").post(url, follow=True)
    assert "already imported" in again.content.decode()
    assert AuthorizedCallerID.objects.count() == 2


def test_a_changed_confirm_shows_the_new_report(client_for, admin_job, extension_a):
    AuthorizedCallerID.objects.create(
        extension=extension_a, number="+40721000124", available=0, total=0
    )
    client = client_for("admin")
    url = reverse("callerids:import_confirm", args=[admin_job.extension_id, admin_job.token])
    page = client.post(url, follow=True)
    html = page.content.decode()
    assert "Something changed since the check: nothing was imported." in html
    assert "Already on this extension: +40721000124." in html
    assert not page.context["can_confirm"]
    assert AuthorizedCallerID.objects.count() == 1


def test_a_file_with_bad_lines_shows_them_and_no_confirm(client_for, extension_a):
    client = client_for("admin")
    response = client.post(
        reverse("callerids:import", args=[extension_a.pk]),
        upload("0721000123\nabc\n0721000123\n"),
        follow=True,
    )
    html = response.content.decode()
    assert "Bad lines" in html
    assert "Bad number" in html and "Duplicate inside the file" in html
    assert "Confirm import" not in html
    job = ImportJob.objects.get()
    errors = client.get(job_urls(job)["errors"])
    assert errors["Content-Type"].startswith("text/csv")
    lines = errors.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line,reason"
    assert lines[1].startswith('2,"Bad number')


def test_a_file_over_the_size_limit_is_an_error_next_to_the_field(
    client_for, extension_a, settings
):
    settings.IMPORT_MAX_BYTES = 10
    response = client_for("admin").post(
        reverse("callerids:import", args=[extension_a.pk]), upload("0721000123,1234\n")
    )
    assert response.status_code == 200
    assert "larger than" in response.context["form"].errors["file"][0]
    assert ImportJob.objects.count() == 0


def test_a_file_over_the_line_limit_fails_its_check_with_the_reason(
    client_for, extension_a, settings
):
    settings.IMPORT_MAX_LINES = 2
    response = client_for("admin").post(
        reverse("callerids:import", args=[extension_a.pk]), upload("111\n222\n333\n"), follow=True
    )
    html = response.content.decode()
    assert "Import failed" in html and "more than 2 data lines" in html
    assert "Check another file" in html and "Retry" not in html
    assert ImportJob.objects.get().upload == b""  # the file is not kept


def test_a_file_in_the_wrong_encoding_fails_its_check_with_the_reason(client_for, extension_a):
    response = client_for("admin").post(
        reverse("callerids:import", args=[extension_a.pk]),
        upload("0721000123,,Comandă\n".encode("cp1250")),
        follow=True,
    )
    assert "not UTF-8" in response.content.decode()


def test_a_missing_file_is_an_error_next_to_the_field(client_for, extension_a):
    response = client_for("admin").post(
        reverse("callerids:import", args=[extension_a.pk]), {"separator": ","}
    )
    assert response.context["form"].errors["file"]


def test_confirm_is_post_only(client_for, admin_job):
    url = reverse("callerids:import_confirm", args=[admin_job.extension_id, admin_job.token])
    assert client_for("admin").get(url).status_code == 405
    assert AuthorizedCallerID.objects.count() == 0


def test_progress_answers_json(client_for, admin_job):
    data = client_for("admin").get(job_urls(admin_job)["progress"]).json()
    assert (data["state"], data["phase"], data["done"]) == ("checked", "done", 2)


def test_pages_use_a_bounded_number_of_queries(
    client_for, admin_job, extension_a, django_assert_max_num_queries
):
    client = client_for("admin")
    with django_assert_max_num_queries(12):
        client.get(reverse("callerids:import", args=[extension_a.pk]))
    with django_assert_max_num_queries(12):
        client.get(job_urls(admin_job)["report"])
    with django_assert_max_num_queries(8):
        client.get(job_urls(admin_job)["progress"])
    with django_assert_max_num_queries(8):
        client.get(job_urls(admin_job)["errors"])


def test_checking_a_large_file_uses_a_bounded_number_of_queries(
    client_for, extension_a, django_assert_max_num_queries
):
    lines = "".join(f"07210{n:05d},,,1\n" for n in range(3000))
    client = client_for("admin")
    # The upload request only keeps the file and enqueues the Check (database backend).
    with using_task_backend("database"), django_assert_max_num_queries(15):
        response = client.post(reverse("callerids:import", args=[extension_a.pk]), upload(lines))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == "checking" and job.task_id
    with django_assert_max_num_queries(20):
        assert run_check_step(job.pk) == "checked"
    assert ImportJob.objects.get().report["count"] == 3000


def test_a_step_on_another_machine_is_dead_only_when_its_heartbeat_is_old(admin_job):
    row = ImportProgress(worker="other-host:1:123", updated_at=timezone.now())
    assert not progress.worker_dead(row)
    row.updated_at = timezone.now() - progress.HEARTBEAT_STALE - timedelta(seconds=1)
    assert progress.worker_dead(row)
    here = progress.this_worker()
    assert not progress.worker_dead(ImportProgress(worker=here, updated_at=row.updated_at))
    gone = here.rsplit(":", 1)[0] + ":999999999"
    assert progress.worker_dead(ImportProgress(worker=gone, updated_at=timezone.now()))
    assert not progress.worker_dead(ImportProgress(worker="", updated_at=row.updated_at))
