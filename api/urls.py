"""Mounted at /api/v1/ by settings/urls.py (URL namespace "api").

The PBX authenticates with a bearer token only, so the API's views are exempt from the
panel's LoginRequiredMiddleware (which would answer with a redirect to the login page) and
from CSRF (ninja marks its views csrf_exempt; no cookie authenticates here, so there is
nothing to forge). The interactive docs and the API root stay behind the panel's login.
"""

from django.contrib.auth.decorators import login_not_required

from api.authorize_view import authorize_view
from api.routes import api

app_name = "api"
urlpatterns, _app_name, _namespace = api.urls
# authorize's fast path in front of ninja's view (authorize_view.py); same URL and name.
for _pattern in urlpatterns:
    if _pattern.name == "authorize":
        _pattern.callback = authorize_view(_pattern.callback)
_BEHIND_LOGIN = {"openapi-view", "api-root"}
for _pattern in urlpatterns:
    if _pattern.name not in _BEHIND_LOGIN:
        login_not_required(_pattern.callback)
