"""Import authorized CallerIDs from a CSV or XLSX file (SPEC §5.2): upload and Check, the
report, Confirm (with progress), and the list of bad lines as CSV."""

import csv
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from callback.scope import get_extension_for_user
from callerids.forms_import import ImportUploadForm
from callerids.importing import background, checking
from callerids.importing.services import job_for, job_to_view
from callerids.models import ImportState
from callerids.selectors import get_license, room_of
from panel.methods import require_form
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.preferences import default_country_notice, get_preferences

ERRORS_SHOWN = 500


def _list_url(extension) -> str:
    return reverse("callerids:list", args=[extension.pk])


def _get_job(request, pk, token, *, to_view: bool = False):
    """The extension (write scope: 404 outside, 403 read-only) and the user's own job, or,
    `to_view` only, any job on it for an administrator (job_to_view). Anything else: 404."""
    extension = get_extension_for_user(request.user, pk, write=True)
    find = job_to_view if to_view else job_for
    job = find(user=request.user, extension=extension, token=token)
    if job is None:
        raise Http404("Not found")
    return extension, job


def _page(request, template, extension, **context):
    license = get_license()
    room = room_of(license, extension.organization.reseller)
    return render(
        request,
        template,
        {
            "extension": extension,
            "room": room,
            "license": license if scoping.is_server_wide(request.user) else None,
            "list_url": _list_url(extension),
            **default_country_notice(get_preferences(), may_set_it=scoping.is_admin(request.user)),
            **context,
        },
    )


@require_form
def import_upload(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        # The Check runs as a task: this request only keeps the file (SPEC §12).
        job = background.upload(
            actor=Actor.from_request(request),
            extension=extension,
            content=form.content(),
            file_name=form.cleaned_data["file"].name,
            separator=form.cleaned_data["separator"],
        )
        return redirect("callerids:import_report", pk=extension.pk, token=job.token)
    return _page(
        request,
        "callerids/import_upload.html",
        extension,
        form=form,
        max_size=f"{settings.IMPORT_MAX_BYTES / (1024 * 1024):.0f} MB",
        max_lines=f"{settings.IMPORT_MAX_LINES:,}",
        may_grant_unlimited=scoping.may_grant_unlimited(request.user),
    )


@require_safe
def import_report(request, pk, token):
    extension, job = _get_job(request, pk, token, to_view=True)
    # An administrator may look at another user's job; only its uploader acts on it.
    uploader = job.user_id == request.user.pk
    status = background.status(job)
    if status.state in (ImportState.CHECKING, ImportState.CONFIRMING, ImportState.FAILED):
        return _page(
            request,
            "callerids/import_running.html",
            extension,
            job=job,
            uploader=uploader,
            status=status,
            report=job.report,
            progress_polled=_progress_polled(),
        )
    report = job.report
    errors = report.get("errors", [])
    preview = [
        {**row, "amount": Decimal(row["credit"]) if row.get("parsed") and row["credit"] else None}
        for row in report.get("preview", [])
    ]
    return _page(
        request,
        "callerids/import_report.html",
        extension,
        job=job,
        uploader=uploader,
        report=report,
        imported=job.state == ImportState.IMPORTED,
        notice=job.notice,
        preview=preview,
        total_credit=Decimal(report.get("total_credit", "0")),
        errors=errors[:ERRORS_SHOWN],
        error_count=report.get("errors_count", len(errors)),
        errors_hidden=max(0, report.get("errors_count", len(errors)) - ERRORS_SHOWN),
        can_confirm=uploader and job.state == ImportState.CHECKED and report.get("ok"),
        progress_polled=_progress_polled(),
    )


def _progress_polled() -> bool:

    return connection.vendor == "postgresql"


@require_POST
def import_confirm(request, pk, token):
    """Enqueue the Confirm (once) and show the page that follows it."""
    extension, job = _get_job(request, pk, token)
    report_url = reverse("callerids:import_report", args=[extension.pk, job.token])
    started = background.confirm(actor=Actor.from_request(request), job=job)
    if not started and job.state == ImportState.IMPORTED:
        messages.info(request, "This file was already imported; nothing was added again.")
    return redirect(report_url)


@require_POST
def import_retry(request, pk, token):
    """Enqueue again a Check or Confirm whose worker died."""
    extension, job = _get_job(request, pk, token)
    if background.retry(actor=Actor.from_request(request), job=job):
        messages.info(request, "Started again.")
    return redirect("callerids:import_report", pk=extension.pk, token=job.token)


@never_cache
@require_safe
def import_progress(request, pk, token):
    _extension, job = _get_job(request, pk, token, to_view=True)
    data = background.status(job).as_dict()
    data["polled"] = _progress_polled()
    return JsonResponse(data)


@require_safe
def import_errors_csv(request, pk, token):
    _extension, job = _get_job(request, pk, token, to_view=True)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="import-errors.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["line", "reason"])
    for error in checking.unpack_bad_lines(job.bad_lines, job.report):
        writer.writerow([error["line"], error["message"]])
    if job.report.get("room_error"):
        writer.writerow(["", job.report["room_error"]])
    return response


_BASE = "extensions/<int:pk>/callerids/import/"

urlpatterns = [
    path(_BASE, import_upload, name="import"),
    path(_BASE + "<uuid:token>/", import_report, name="import_report"),
    path(_BASE + "<uuid:token>/confirm/", import_confirm, name="import_confirm"),
    path(_BASE + "<uuid:token>/progress/", import_progress, name="import_progress"),
    path(_BASE + "<uuid:token>/retry/", import_retry, name="import_retry"),
    path(_BASE + "<uuid:token>/errors.csv", import_errors_csv, name="import_errors"),
]
