"""A refused request is logged as one concise line: user, path, reason; no traceback, and
printed once (issue 16 item 15)."""

import logging

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def request_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_403_is_one_line_with_user_path_and_reason(client_for, caplog):
    with caplog.at_level(logging.INFO):
        response = client_for("reseller_a").get(reverse("tenancy:audit_list"))

    assert response.status_code == 403
    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and not record.exc_text
    line = logging.Formatter().format(record)
    assert "\n" not in line and "Traceback" not in line
    assert "403 GET" in line
    assert "user=alice" in line
    assert f"path={reverse('tenancy:audit_list')}" in line
    assert "reason=" in line and "reason=Forbidden" not in line  # the exception's own reason


def test_a_403_of_an_export_names_its_reason(client_for, caplog, extension_a):
    url = reverse("exports:download", args=["audit", "csv"])
    with caplog.at_level(logging.INFO):
        response = client_for("staff_a").get(url)

    assert response.status_code == 403
    [record] = request_records(caplog)
    assert record.exc_info is None
    assert "user=sam" in record.getMessage()
    assert "reason=You may not export this." in record.getMessage()


def test_a_404_outside_the_scope_has_no_traceback_either(client_for, caplog, extension_b):
    with caplog.at_level(logging.INFO):
        response = client_for("reseller_a").get(reverse("callerids:list", args=[extension_b.pk]))

    assert response.status_code == 404
    [record] = request_records(caplog)
    assert record.exc_info is None
    assert "user=alice" in record.getMessage()


def test_a_server_error_keeps_its_traceback(caplog):
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), None
    )
    record.status_code = 500
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    for log_filter in logging.getLogger("django.request").filters:
        log_filter.filter(record)
    assert record.exc_info is not None and record.getMessage() == "Internal Server Error: /x"


@override_settings(DEBUG=True)
def test_a_refusal_is_printed_by_one_handler_even_with_debug_on(client_for, caplog):
    with caplog.at_level(logging.INFO):
        client_for("reseller_a").get(reverse("tenancy:audit_list"))
    [record] = request_records(caplog)

    printing = []
    logger = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue  # pytest's capture, not the app's configuration
            if record.levelno >= handler.level and handler.filter(record):
                printing.append(handler)
        logger = logger.parent if logger.propagate else None

    assert len(printing) == 1, printing
