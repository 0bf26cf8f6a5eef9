"""The Charging preferences page (administrators only): currency, decimals, default country."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from credit.forms_charging import ChargingForm
from credit.selectors import credit_ever_granted
from credit.services.charging import update_charging_preferences
from panel.methods import require_form
from panel.posting import add_refusal, posted
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.preferences import get_preferences
from values.errors import DomainError


@require_form
def charging_page(request):
    scoping.require_admin(request.user)
    preferences = get_preferences()
    locked = credit_ever_granted()
    initial = {
        "currency": preferences.currency,
        "decimals": preferences.decimals,
        "default_country": preferences.default_country,
    }
    form = ChargingForm(posted(request), initial=initial, currency_locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            update_charging_preferences(actor=Actor.from_request(request), **form.cleaned_data)
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, "Charging preferences saved.")
            return redirect("credit:charging")
    context = {
        "form": form,
        "preferences": preferences,
        "currency_locked": locked,
        "country_missing": not preferences.default_country,
        "on_charging_page": True,
    }
    return render(request, "credit/charging.html", context)


urlpatterns = [
    path("charging/", charging_page, name="charging"),
]
