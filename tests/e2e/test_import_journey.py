"""Browser journey: import CallerIDs from a file with errors, fix it, import it (SPEC §5.2)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callerids.models import AuthorizedCallerID, License
from tenancy.models import ChargingPreferences
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reseller_fixes_a_bad_file_and_imports_it(
    page, shoot, reseller_a_user, extension_a, tmp_path
):
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": 100})
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )
    log_in(page, "alice", PASSWORD)
    page.goto(reverse("callerids:import", args=[extension_a.pk]))
    expect(page.get_by_role("heading", name="Import authorized CallerIDs")).to_be_visible()
    expect(page.get_by_text("You can add 100 more.")).to_be_visible()
    shoot("upload")

    bad = tmp_path / "numbers.csv"
    bad.write_text(
        "Callback number;PIN;Order number;Initial credit\n"
        "0721 000 123;1234;ORD-1;10.50\n"
        "0721-000-abc;;;5\n"
        "0721000124;12;;u\n"
        "+40721000123;;;1\n"
    )
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(bad))
    page.get_by_label("Field separator").select_option(";")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="Import report: numbers.csv")).to_be_visible()
    errors = page.get_by_role("table", name="Bad lines")
    expect(errors.get_by_role("row")).to_have_count(4)  # header + 3 bad lines
    expect(errors).to_contain_text("Bad number")
    expect(errors).to_contain_text("Bad PIN")
    expect(errors).to_contain_text("Duplicate inside the file: the same number as line 2")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    shoot("report-with-errors")

    page.get_by_role("link", name="Check another file").click()
    good = tmp_path / "numbers-fixed.csv"
    good.write_text(
        "Callback number;PIN;Order number;Initial credit\r\n"
        "0721 000 123;1234;ORD-1;10.50\r\n"
        "0721000125;;;5\r\n"
        "0721000124;1212;;u\r\n"
    )
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(good))
    page.get_by_label("Field separator").select_option(";")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("count")).to_have_text("3")
    expect(page.get_by_test_id("unlimited")).to_have_text("1")
    expect(page.get_by_test_id("total-credit")).to_have_text("15.50 EUR")
    shoot("report-ok")

    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_role("heading", name="Import done: numbers-fixed.csv")).to_be_visible()
    expect(page.get_by_test_id("import-done")).to_have_text(
        "Imported 3 authorized CallerIDs into callback extension 0003*001."
    )
    expect(page.get_by_text("Imported 3 authorized CallerIDs")).to_have_count(1)
    shoot("imported")
    assert AuthorizedCallerID.objects.filter(extension=extension_a).count() == 3

    page.get_by_role("link", name="See the authorized CallerIDs").click()
    expect(page.get_by_text("+40721000125")).to_be_visible()
    shoot("list")
