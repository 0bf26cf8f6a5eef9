"""The License page (administrators only): the maximum of active CallerIDs and the counter."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from callerids.forms_license import LicenseForm
from callerids.selectors import get_license
from callerids.services.license import update_license
from panel.methods import require_form
from panel.posting import add_refusal, posted
from tenancy import scoping
from tenancy.audit import Actor
from values.errors import DomainError


@require_form
def license_page(request):
    scoping.require_admin(request.user)
    license = get_license()
    form = LicenseForm(
        posted(request), initial={"max_active_callerids": license.max_active_callerids}
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = update_license(actor=Actor.from_request(request), **form.cleaned_data)
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                f"License saved: at most {result.license.max_active_callerids} active "
                "authorized CallerIDs.",
            )
            if result.below_active_count:
                messages.warning(
                    request,
                    f"{result.license.active_callerids} CallerIDs are already enabled, more than "
                    "the new maximum: existing CallerIDs stay enabled, only new activations are "
                    "refused until the count is below the maximum.",
                )
            return redirect("callerids:license")
    return render(request, "callerids/license.html", {"form": form, "license": license})


urlpatterns = [
    path("license/", license_page, name="license"),
]
