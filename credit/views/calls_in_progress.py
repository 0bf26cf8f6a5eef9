"""The calls in progress of one callback extension (SPEC §11): what each holds, and a
release for stuck holds (admins and resellers; audited, the hold counts as expired)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from callback.scope import get_extension_for_user
from credit.models import CallHold, HoldStatus
from credit.selectors_holds import calls_in_progress_for_extension
from credit.services.holds import release_hold
from tenancy import scoping
from tenancy.audit import Actor
from values.errors import DomainError

RECENTLY_ENDED = 20


@require_safe
def calls_in_progress(request, pk: int):
    extension = get_extension_for_user(request.user, pk)
    holds = list(calls_in_progress_for_extension(extension.pk))
    ended = list(
        CallHold.objects.filter(
            extension_id=extension.pk, status__in=[HoldStatus.EXPIRED, HoldStatus.RELEASED]
        )
        .select_related("callerid")
        .order_by("-closed_at", "-id")[:RECENTLY_ENDED]
    )
    return render(
        request,
        "credit/calls_in_progress.html",
        {
            "extension": extension,
            "holds": holds,
            "ended": ended,
            "can_release": scoping.can_write(request.user),
        },
    )


@require_POST
def release(request, pk: int, hold_pk: int):
    # 403 for read-only roles before anything is looked up; 404 outside the scope.
    scoping.require_write(request.user)
    extension = get_extension_for_user(request.user, pk, write=True)
    hold = scoping.get_or_404(CallHold.objects.filter(extension_id=extension.pk), pk=hold_pk)
    try:
        release_hold(actor=Actor.from_request(request), hold=hold)
    except DomainError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Call {hold.call_id} released: its credit is no longer held.")
    return redirect("credit:calls_in_progress", pk=extension.pk)


urlpatterns = [
    path("extensions/<int:pk>/calls-in-progress/", calls_in_progress, name="calls_in_progress"),
    path(
        "extensions/<int:pk>/calls-in-progress/<int:hold_pk>/release/",
        release,
        name="calls_in_progress_release",
    ),
]
