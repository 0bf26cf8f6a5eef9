"""The Notifications page (SPEC §12): per reseller, and the server's for admins."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from notifications import delivery as deliveries
from notifications.forms import ChannelSettingsForm, ServerChannelSettingsForm
from notifications.models import ChannelSettings, Delivery, DeliveryState
from notifications.selectors import server_settings, settings_for
from notifications.services import rotate_secret, send_test_event, update_settings
from notifications.tasks import deliver_event_task
from panel.methods import require_form
from panel.paging import paginate
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.models import Reseller
from values.errors import DomainError

_SECRET_KEY = "notifications-secret-{pk}"
LOG_PAGE_SIZE = 50


def _require_manager(user) -> None:
    """Admins and resellers; staff may not (the page manages a secret)."""
    scoping.require_role(user)
    if not scoping.can_write(user):
        raise PermissionDenied("Only administrators and resellers manage notifications.")


def _row_for(user, reseller_pk: int | None) -> ChannelSettings:
    """The channel row the user may manage: the server's (admins), or a reseller's (admins,
    and that reseller's own users; another reseller's is not found)."""
    _require_manager(user)
    if reseller_pk is None:
        if not scoping.is_admin(user):
            raise PermissionDenied("Only administrators manage the server's notifications.")
        return server_settings()
    reseller = scoping.get_reseller_for_user(user, reseller_pk)
    return settings_for(reseller)


def _page_url(row: ChannelSettings) -> str:
    if row.reseller_id is None:
        return reverse("notifications:server")
    return reverse("notifications:reseller", args=[row.reseller_id])


@require_safe
def index(request):
    """Admins: the server and every reseller; a reseller's user: its own page."""
    _require_manager(request.user)
    if not scoping.is_admin(request.user):
        return redirect("notifications:reseller", pk=scoping.reseller_id_of(request.user))
    rows = {row.reseller_id: row for row in ChannelSettings.objects.all()}
    failing = dict(
        Delivery.objects.filter(state=DeliveryState.FAILED)
        .values_list("settings__reseller_id")
        .annotate(n=Count("id"))
    )
    pending = dict(
        Delivery.objects.filter(state=DeliveryState.PENDING, attempts__gt=0)
        .values_list("settings__reseller_id")
        .annotate(n=Count("id"))
    )
    lines = [
        {
            "name": "Server (every reseller's events)",
            "url": reverse("notifications:server"),
            "row": rows.get(None),
            "failed": failing.get(None, 0),
            "retrying": pending.get(None, 0),
        }
    ]
    for reseller in Reseller.objects.order_by("name"):
        lines.append(
            {
                "name": reseller.name,
                "url": reverse("notifications:reseller", args=[reseller.pk]),
                "row": rows.get(reseller.pk),
                "failed": failing.get(reseller.pk, 0),
                "retrying": pending.get(reseller.pk, 0),
            }
        )
    return render(request, "notifications/index.html", {"lines": lines})


def _settings_page(request, reseller_pk):
    row = _row_for(request.user, reseller_pk)
    form_class = ServerChannelSettingsForm if row.reseller_id is None else ChannelSettingsForm
    actor = Actor.from_request(request)
    form = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "save":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    row = update_settings(
                        actor=actor,
                        row=row,
                        low_credit_threshold=form.cleaned_data["low_credit_threshold"],
                        emails=form.cleaned_data["emails"],
                        webhook_url=form.cleaned_data["webhook_url"],
                        allow_private_webhooks=form.cleaned_data.get("allow_private_webhooks"),
                    )
                except DomainError as exc:
                    form.add_error("webhook_url", exc.messages)
                else:
                    if row.new_secret:
                        request.session[_SECRET_KEY.format(pk=row.pk)] = row.new_secret
                    messages.success(request, "Notification settings saved.")
                    return redirect(_page_url(row))
        elif action in ("rotate", "test"):
            try:
                if action == "rotate":
                    secret = rotate_secret(actor=actor, row=row)
                    request.session[_SECRET_KEY.format(pk=row.pk)] = secret
                    messages.success(request, "A new secret was made: the old one no longer signs.")
                else:
                    send_test_event(actor=actor, row=row)
                    messages.success(request, "A test event was sent: see the delivery log.")
            except DomainError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect(_page_url(row))
        else:
            raise Http404("Unknown action")
    if form is None:
        initial = {
            "low_credit_threshold": ""
            if row.low_credit_threshold is None
            else row.low_credit_threshold.normalize(),
            "emails": row.emails,
            "webhook_url": row.webhook_url,
            "allow_private_webhooks": row.allow_private_webhooks,
        }
        form = form_class(initial=initial)
    log = Delivery.objects.filter(settings=row).select_related("event").order_by("-id")
    page = paginate(log, request.GET.get("page"), per_page=LOG_PAGE_SIZE)
    return render(
        request,
        "notifications/settings.html",
        {
            "row": row,
            "reseller": row.reseller,
            "form": form,
            "new_secret": request.session.pop(_SECRET_KEY.format(pk=row.pk), None),
            "page": page,
            "is_admin": scoping.is_admin(request.user),
        },
    )


@require_form
def server_page(request):
    return _settings_page(request, None)


@require_form
def reseller_page(request, pk):
    return _settings_page(request, pk)


@require_POST
def retry_delivery(request, pk):
    """Retry now: the delivery is due at once and a task takes it."""
    _require_manager(request.user)
    item = get_object_or_404(Delivery.objects.select_related("settings"), pk=pk)
    row = _row_for_delivery(request.user, item)
    deliveries.retry_now(item)
    deliver_event_task.enqueue(str(item.event_id))
    messages.success(request, "The delivery will be tried again now.")
    return redirect(_page_url(row))


def _row_for_delivery(user, item: Delivery) -> ChannelSettings:
    try:
        return _row_for(user, item.settings.reseller_id)
    except PermissionDenied:
        if item.settings.reseller_id is None:
            raise Http404("Not found") from None
        raise


app_name = "notifications"

urlpatterns = [
    path("", index, name="index"),
    path("server/", server_page, name="server"),
    path("resellers/<int:pk>/", reseller_page, name="reseller"),
    path("deliveries/<int:pk>/retry/", retry_delivery, name="retry"),
]
