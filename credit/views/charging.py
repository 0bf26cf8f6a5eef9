"""The Charging preferences page (administrators only): currency, decimals, default country."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from callback import scoping, selectors
from callback.audit import Actor
from callback.errors import DomainError
from callback.forms.posting import add_refusal, posted
from callback.forms.tenancy import ChargingForm
from callback.services.server_settings import update_charging_preferences
from credit.selectors import get_preferences


def charging_page(request):
    scoping.require_admin(request.user)
    preferences = get_preferences()
    locked = selectors.credit_ever_granted()
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
