"""The CallerIDs low on credit or with none left, in the user's scope: where the panel
home's two counts lead (SPEC §14)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from credit.selectors_home import (
    CREDIT_STATES,
    LOW,
    WATCH_LIMIT,
    credit_watch,
    low_credit_threshold,
)
from tenancy import scoping
from tenancy.preferences import get_preferences


@require_safe
def credit_watch_page(request):
    scoping.require_role(request.user)
    state = request.GET.get("state", LOW)
    if state not in CREDIT_STATES:
        raise Http404("Unknown credit state")
    preferences = get_preferences()
    rows = list(
        credit_watch(request.user, state).select_related("extension__organization__reseller")[
            : WATCH_LIMIT + 1
        ]
    )
    context = {
        "state": state,
        "states": CREDIT_STATES,
        "title": CREDIT_STATES[state],
        "rows": rows[:WATCH_LIMIT],
        "more": len(rows) > WATCH_LIMIT,
        "limit": WATCH_LIMIT,
        "threshold": low_credit_threshold(),
        "currency": preferences.currency,
        "charging_preferences": preferences,  # the {% money %} tag's
        "server_wide": scoping.is_server_wide(request.user),
    }
    return render(request, "credit/credit_watch.html", context)


urlpatterns = [
    path("credit-watch/", credit_watch_page, name="credit_watch"),
]
