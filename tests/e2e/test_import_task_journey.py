"""Browser journey: a 100,000-line import through the pages with a real task worker, on the
database backend and on RQ (SPEC §12, §5.2): the upload answers at once, the page follows
the Check and the Confirm, the progress moves, the result is the synchronous one.

Slow (two 100,000-line imports) and PostgreSQL only (the worker is another process).
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callerids.models import AuthorizedCallerID, License
from tenancy.models import ChargingPreferences
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.tasks_support import (
    flush_queue,
    redis_or_skip,
    start_worker,
    stop_worker,
    using_task_backend,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LINES = 100_000


def make_file(path):
    """Like bench/import_bench.py: a header, PINs on odd lines, Unlimited on every 10th."""
    rows = ["callback number,pin,order number,initial credit"]
    unlimited, total = 0, Decimal(0)
    for n in range(LINES):
        pin = f"{n % 10_000:04d}" if n % 2 else ""
        if n % 10 == 0:
            credit = "u"
            unlimited += 1
        else:
            credit = f"{n % 500}.{n % 100:02d}"
            total += Decimal(credit)
        rows.append(
            f"+40 7{n // 1_000_000 % 10}{n % 1_000_000:06d}0"[:16] + f",{pin},B-{n},{credit}"
        )
    path.write_text("\r\n".join(rows) + "\r\n")
    return unlimited, total


@pytest.mark.parametrize("backend", ["database", "rq"])
def test_100k_lines_import_through_the_browser_with_a_worker(
    backend, page, shoot, admin_user, extension_a, tmp_path
):
    if backend == "rq":
        redis_or_skip()
    License.objects.update_or_create(pk=1, defaults={"max_active_callerids": LINES + 10})
    ChargingPreferences.objects.update_or_create(
        pk=1, defaults={"currency": "EUR", "decimals": 2, "default_country": "RO"}
    )
    unlimited, total = make_file(tmp_path / "big.csv")
    page.set_default_timeout(30_000)
    with using_task_backend(backend):
        if backend == "rq":
            flush_queue()
        worker = start_worker(backend, log_path=tmp_path / "worker.log")
        try:
            log_in(page, "admin", PASSWORD)
            page.goto(reverse("callerids:import", args=[extension_a.pk]))
            page.get_by_label("File (CSV or XLSX)").set_input_files(str(tmp_path / "big.csv"))
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.get_by_role("button", name="Check").click()
            timing = answer.value.request.timing
            # Time from sending the request to the first byte of the answer: the server's.
            server_ms = timing["responseStart"] - timing["requestStart"]
            assert answer.value.status == 302
            assert server_ms < 1000, f"the upload took {server_ms:.0f} ms"
            expect(
                page.get_by_role("heading", name=re.compile("Checking: big.csv"))
            ).to_be_visible()
            shoot("checking")

            expect(page.get_by_test_id("count")).to_have_text(f"{LINES:,}", timeout=180_000)
            expect(page.get_by_test_id("unlimited")).to_have_text(f"{unlimited:,}")
            expect(page.get_by_test_id("total-credit")).to_have_text(f"{total:,.2f} EUR")
            shoot("report")

            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.get_by_role("button", name="Confirm import").click()
            timing = answer.value.request.timing
            assert timing["responseStart"] - timing["requestStart"] < 1000
            expect(
                page.get_by_role("heading", name=re.compile("Importing: big.csv"))
            ).to_be_visible()
            # The progress moves: "Saved N of 100,000…" with 0 < N < 100,000 at some point.
            text = page.get_by_test_id("progress-text")
            expect(text).to_have_text(re.compile(r"Saved [1-9][0-9,]* of 100,000"), timeout=180_000)
            shown = text.text_content()
            shoot("progress")
            assert shown != f"Saved {LINES:,} of {LINES:,}…"

            expect(page.get_by_role("heading", name="Import done: big.csv")).to_be_visible(
                timeout=180_000
            )
            expect(
                page.get_by_text(f"Imported {LINES:,} authorized CallerIDs into")
            ).to_be_visible()
            shoot("done")
        finally:
            stop_worker(worker)
            if backend == "rq":
                flush_queue()
    assert AuthorizedCallerID.objects.filter(extension=extension_a).count() == LINES
    assert AuthorizedCallerID.objects.filter(unlimited=True).count() == unlimited
