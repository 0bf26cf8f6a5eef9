"""The destination rules pages (SPEC §11): the server's set and each reseller's.

Admins edit the server's and every reseller's; a reseller's users edit their own; staff
have no access (403): the rules are an operator's fraud setting, not a report.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path

from callback.forms.destination_rules import DestinationRulesForm
from callback.services.destination_rules import may_edit, rules_of, update_destination_rules
from panel.methods import require_form
from panel.posting import add_refusal, posted
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.models import Reseller

STAFF_REFUSED = "Destination rules are managed by administrators and resellers."


def _rules_page(request, reseller: Reseller | None):
    form = DestinationRulesForm(posted(request), instance=rules_of(reseller))
    if request.method == "POST" and form.is_valid():
        try:
            update_destination_rules(
                actor=Actor.from_request(request), reseller=reseller, setup=form.setup()
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, "Destination rules saved.")
            return redirect(request.path)
    resellers = None
    if reseller is None:
        resellers = Reseller.objects.order_by("name").only("pk", "name", "active")
    return render(
        request,
        "callback/destination_rules.html",
        {"form": form, "reseller": reseller, "resellers": resellers},
    )


@require_form
def destination_rules(request):
    """The server's rules (admins); a reseller's user is sent to its own reseller's."""
    scoping.require_role(request.user)
    if scoping.is_admin(request.user):
        return _rules_page(request, None)
    reseller_id = scoping.reseller_id_of(request.user)
    if not scoping.can_write(request.user) or reseller_id is None:
        raise PermissionDenied(STAFF_REFUSED)
    return redirect("callback:reseller_destination_rules", pk=reseller_id)


@require_form
def reseller_destination_rules(request, pk):
    reseller = scoping.get_or_404(scoping.resellers_for(request.user), pk=pk)
    if not may_edit(request.user, reseller):
        raise PermissionDenied(STAFF_REFUSED)
    return _rules_page(request, reseller)


urlpatterns = [
    path("destination-rules/", destination_rules, name="destination_rules"),
    path(
        "resellers/<int:pk>/destination-rules/",
        reseller_destination_rules,
        name="reseller_destination_rules",
    ),
]
