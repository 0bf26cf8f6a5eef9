"""URLs of the callerids app: each views module brings its own urlpatterns."""

from callerids.views import editing, importing, license, lists

app_name = "callerids"

urlpatterns = [
    *license.urlpatterns,
    *lists.urlpatterns,
    *editing.urlpatterns,
    *importing.urlpatterns,
]
