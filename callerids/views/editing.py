"""Add authorized CallerIDs (up to 10 at once, SPEC §5.1) and edit one (SPEC §5.3)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from callback.scope import get_extension_for_user
from callerids.forms import SHOWN_ROWS, EditCallerIDForm, NewCallerIDFormSet, OneTimeKeyForm
from callerids.scope import get_callerid_for_user
from callerids.selectors import room_left
from callerids.services.callerids import add_callerids, edit_callerid
from callerids.services.validation import RowErrors
from callerids.tables import format_created, status_text
from callerids.views.lists import list_url
from panel.methods import require_form
from panel.posting import add_refusal, posted
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.preferences import default_country_notice, get_preferences
from values.errors import DomainError

EXPIRED_KEY = "This form had no valid one-time key; check the rows and press OK again."


def _added_message(result) -> str:
    numbers = ", ".join(c.number for c in result.callerids)
    if result.already_applied:
        at = timezone.localtime(result.applied_at).strftime("%H:%M")
        return f"Already applied at {at}: this form had added {numbers}. Nothing was added again."
    count = len(result.callerids)
    return f"Added {count} authorized CallerID{'' if count == 1 else 's'}: {numbers}."


@require_form
def callerid_add(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    preferences = get_preferences()
    may_grant_unlimited = scoping.may_grant_unlimited(request.user)
    data = posted(request)
    key_form = OneTimeKeyForm(data)
    formset = NewCallerIDFormSet(
        data,
        prefix="rows",
        form_kwargs={
            "may_grant_unlimited": may_grant_unlimited,
            "decimals": preferences.decimals,
            "currency": preferences.currency,
            "default_country": preferences.default_country or None,
        },
    )
    errors: list[str] = []
    if data is not None and not key_form.is_valid():
        errors.append(EXPIRED_KEY)
        key_form = OneTimeKeyForm()
    elif data is not None and formset.is_valid():
        used = formset.used_forms()
        try:
            result = add_callerids(
                actor=Actor.from_request(request),
                extension=extension,
                rows=[form.new_callerid() for form in used],
                one_time_key=key_form.cleaned_data["one_time_key"],
            )
        except RowErrors as exc:
            formset.show_row_errors(used, exc.row_errors)
            errors.extend(exc.messages)
        except DomainError as exc:
            errors.extend(exc.messages)
        else:
            if result.already_applied:
                messages.info(request, _added_message(result))
            else:
                messages.success(request, _added_message(result))
            return redirect(list_url(extension))
    # Rows past the first few open by themselves when they hold something or an error.
    more_open = any(
        form.errors or (data is not None and form.has_changed())
        for form in formset.forms[SHOWN_ROWS:]
    )
    return render(
        request,
        "callerids/callerid_add.html",
        {
            "extension": extension,
            "room": room_left(request.user),
            "key_form": key_form,
            "formset": formset,
            "first_rows": formset.forms[:SHOWN_ROWS],
            "more_rows": formset.forms[SHOWN_ROWS:],
            "more_open": more_open,
            "errors": errors + list(formset.non_form_errors()),
            "may_grant_unlimited": may_grant_unlimited,
            "decimals": preferences.decimals,
            "currency": preferences.currency,
            "import_url": reverse("callerids:import", args=[extension.pk]),
            "list_url": list_url(extension),
            **default_country_notice(preferences, may_set_it=scoping.is_admin(request.user)),
        },
    )


@require_form
def callerid_edit(request, pk):
    callerid = get_callerid_for_user(request.user, pk, write=True)
    extension = callerid.extension
    preferences = get_preferences()
    context = {
        "callerid": callerid,
        "extension": extension,
        "status_text": status_text(callerid),
        "created": format_created(callerid.created_at),
        "removed": format_created(callerid.removed_at) if callerid.removed_at else "",
        "list_url": list_url(extension),
        "room": room_left(request.user),
        "credit_url": reverse("credit:callerid_credit", args=[callerid.pk]),
    }
    if callerid.is_removed:
        # Frozen (SPEC §4): shown read-only; a POST changes nothing.
        if request.method == "POST":
            messages.error(request, "This CallerID was removed: it cannot be edited.")
        return render(
            request,
            "callerids/callerid_edit.html",
            context,
            status=409 if request.method == "POST" else 200,
        )
    form = EditCallerIDForm(
        posted(request),
        initial={"number": callerid.number, "status": callerid.status},
        default_country=preferences.default_country or None,
        has_pin=callerid.has_pin,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = edit_callerid(
                actor=Actor.from_request(request),
                callerid=callerid,
                number=data["number"],
                pin=data["pin"] or None,
                remove_pin=bool(data["remove_pin"]),
                status=data["status"],
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f"CallerID {saved.number} saved.")
            return redirect(list_url(extension))
    return render(
        request,
        "callerids/callerid_edit.html",
        {**context, "form": form},
    )


urlpatterns = [
    path("extensions/<int:pk>/callerids/add/", callerid_add, name="add"),
    path("callerids/<int:pk>/edit/", callerid_edit, name="edit"),
]
