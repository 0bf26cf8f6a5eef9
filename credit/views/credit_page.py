"""The credit management page of one CallerID (SPEC §6): recharge history and Add credit."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from callerids.models import REMOVED_MESSAGE
from callerids.scope import get_callerid_for_user
from credit.filters import RechargeHistoryFilter
from credit.forms import AddCreditForm
from credit.models import CallHold, HoldStatus, LedgerKind
from credit.selectors_history import calls_after, recharge_history
from credit.selectors_holds import open_holds_of
from credit.services.recharge import CreditResult, add_credit
from credit.tables import RechargeHistoryTable
from panel.methods import require_form
from panel.paging import configure_list
from panel.posting import add_refusal
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.preferences import get_preferences
from values.errors import DomainError
from values.money import format_money

PER_PAGE = 25
# Holds that ended without a report (expired, released), newest first.
ENDED_HOLDS_SHOWN = 5


def _history(request, callerid, decimals: int):
    filterset = RechargeHistoryFilter(request.GET, queryset=recharge_history(callerid))
    table = RechargeHistoryTable(filterset.qs, decimals=decimals)
    configure_list(request, table, per_page=PER_PAGE)
    records = [row.record for row in table.page.object_list]
    summaries = calls_after(callerid, [record.pk for record in records])
    for record in records:
        record.calls_after = summaries.get(record.pk)
    return filterset, table


def _outcome(result: CreditResult, decimals: int, currency: str) -> str:
    entry = result.entry
    left = format_money(entry.balance_after, decimals, currency)
    if entry.kind == LedgerKind.SET_UNLIMITED:
        return "The CallerID now has Unlimited credit."
    if entry.kind == LedgerKind.SET_LIMITED:
        return f"The CallerID is now limited: {left} left."
    verb = "Added" if entry.amount > 0 else "Removed"
    amount = format_money(abs(entry.amount), decimals, currency)
    return f"{verb} {amount}: {left} left."


def _apply(request, callerid, form: AddCreditForm, preferences):
    """Call the service; a redirect on success (POST-redirect-GET), None on a refusal."""
    if callerid.is_removed:
        form.add_error(None, REMOVED_MESSAGE)
        return None
    if not form.is_valid():
        return None
    try:
        result = add_credit(
            actor=Actor.from_request(request),
            callerid=callerid.pk,
            amount=form.cleaned_data["amount"],
            unlimited=form.cleaned_data["unlimited"],
            order_number=form.cleaned_data["order_number"],
            one_time_key=form.cleaned_data["one_time_key"],
        )
    except DomainError as exc:
        add_refusal(form, exc)
        return None
    outcome = _outcome(result, preferences.decimals, preferences.currency)
    if result.already_applied:
        applied_at = timezone.localtime(result.applied_at).strftime("%H:%M")
        messages.info(request, f"Already applied at {applied_at}. {outcome}")
    else:
        messages.success(request, outcome)
    return redirect(request.get_full_path())


@require_form
def callerid_credit(request, pk: int):
    posting = request.method == "POST"
    # 404 outside the user's scope; 403 on POST for read-only roles (staff only look).
    callerid = get_callerid_for_user(request.user, pk, write=posting)
    preferences = get_preferences()
    form = None
    if scoping.can_write(request.user) and (posting or not callerid.is_removed):
        form = AddCreditForm(
            request.POST if posting else None,
            decimals=preferences.decimals,
            currency=preferences.currency,
            may_grant_unlimited=scoping.may_grant_unlimited(request.user),
        )
        if posting:
            response = _apply(request, callerid, form, preferences)
            if response is not None:
                return response
    filterset, table = _history(request, callerid, preferences.decimals)
    list_url = reverse("callerids:list", args=[callerid.extension_id])
    context = {
        "callerid": callerid,
        "extension": callerid.extension,
        "form": form,
        "filter": filterset,
        "table": table,
        "currency": preferences.currency,
        "charging_preferences": preferences,  # the {% money %} tag's
        "callerids_list_url": list_url,
        "on_hold": open_holds_of(callerid.pk),
        "ended_holds": list(
            CallHold.objects.filter(
                callerid_id=callerid.pk, status__in=[HoldStatus.EXPIRED, HoldStatus.RELEASED]
            ).order_by("-closed_at", "-id")[:ENDED_HOLDS_SHOWN]
        ),
        "cancel_url": list_url,
    }
    return render(request, "credit/credit_page.html", context)


urlpatterns = [
    path("callerids/<int:pk>/credit/", callerid_credit, name="callerid_credit"),
]
