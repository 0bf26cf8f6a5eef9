from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credit.views.home import home
from panel import views as panel
from tenancy.views.auth import AuditedPasswordChangeView

urlpatterns = [
    # First: the PBX's questions are the most frequent requests, and Django tries the
    # patterns in order (over 200 panel ones otherwise). No other pattern starts with "api".
    path("api/v1/", include("api.urls")),
    path("", home, name="home"),
    path("healthz", panel.healthz, name="healthz"),
    path("favicon.ico", panel.favicon, name="favicon"),
    path("login/", panel.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        AuditedPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("", include("tenancy.urls")),
    path("", include("callback.urls")),
    path("", include("callerids.urls")),
    path("", include("credit.urls")),
    path("exports/", include("exports.urls")),
    path("notifications/", include("notifications.views")),
    path("django-admin/", admin.site.urls),
]
