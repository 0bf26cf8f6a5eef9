"""The panel home's 30-day cost chart as an SVG image of its own (SPEC §14).

The home page points at it with <picture>: the browser fetches the one drawing its screen
needs (wide, or compact for phones), in parallel with the rest of the page, so drawing the
chart (pygal: tens of milliseconds) is not part of the home's answer. The figures come
from the same per-day rows as the home's (at most 30 per reseller).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from credit.charts import cost_per_day_svg
from credit.selectors_home import cost_days
from tenancy import scoping
from tenancy.preferences import get_preferences

SIZES = {"wide": False, "compact": True}


@require_safe
def home_cost_chart(request, size):
    scoping.require_role(request.user)
    if size not in SIZES:
        raise Http404("Unknown chart size")
    preferences = get_preferences()
    svg = cost_per_day_svg(
        cost_days(request.user),
        decimals=preferences.decimals,
        currency=preferences.currency,
        compact=SIZES[size],
    )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Private (per user's scope); a minute old at most, like the home it belongs to.
    patch_cache_control(response, private=True, max_age=60)
    # An image: nothing runs in it; its own <style> (pygal's) is all it needs.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


urlpatterns = [
    path("panel/cost-chart-<slug:size>.svg", home_cost_chart, name="home_cost_chart"),
]
