"""The benchmarks' URLconf (bench/bench_settings.py): every real URL, plus two baselines
that go through the same middleware as the real views:

- /bench/bare-json: a bare Django JSON view (parses the JSON body, answers a fixed JSON
  object), for the API's requests/s;
- /bench/extensions/<pk>/baseline-list/: a minimal list view running the same 50-row
  query as the Authorized CallerIDs page (same filter, order, offset) and rendering a
  plain template, for the page's server time.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from callback.models import CallbackExtension
from callerids.filters import DEFAULT_SORT, SORTS
from callerids.models import AuthorizedCallerID, CallerIDStatus
from settings.urls import urlpatterns as real_urlpatterns

PER_PAGE = 50

_PLAIN = engines["django"].from_string(
    "<!doctype html><title>{{ extension.number }}</title><table>"
    "{% for c in rows %}<tr><td>{{ c.status }}</td><td>{{ c.number }}</td>"
    "<td>{{ c.pin_hash|yesno:'Yes,No' }}</td><td>{{ c.total }}</td><td>{{ c.available }}</td>"
    "<td>{{ c.created_at }}</td></tr>{% endfor %}</table>"
)


@csrf_exempt
@login_not_required
def bare_json(request):
    body = json.loads(request.body or b"{}")
    return JsonResponse({"decision": "reject", "reason": "not_authorized", "echo": len(body)})


def baseline_list(request, pk):
    extension = get_object_or_404(CallbackExtension, pk=pk)
    rows = AuthorizedCallerID.objects.filter(extension=extension).exclude(
        status=CallerIDStatus.REMOVED
    )
    if request.GET.get("q"):
        rows = rows.filter(number__icontains=request.GET["q"])
    page = int(request.GET.get("page") or 1)
    order = SORTS[request.GET.get("sort") or DEFAULT_SORT]
    rows = rows.order_by(*order)[(page - 1) * PER_PAGE : page * PER_PAGE]
    return HttpResponse(_PLAIN.render({"extension": extension, "rows": rows}))


urlpatterns = [
    path("bench/bare-json", bare_json, name="bench_bare_json"),
    path("bench/extensions/<int:pk>/baseline-list/", baseline_list, name="bench_baseline_list"),
    *real_urlpatterns,
]
