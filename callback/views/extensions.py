"""Callback extensions: list, setup form, management page, (de)activate, delete (SPEC §3)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from callback.filters.extensions import ExtensionFilter
from callback.forms.extensions import PIN_LOCK_WARNING, ExtensionForm
from callback.scope import extensions_for, get_extension_for_user
from callback.services import extensions as services
from callback.tables.extensions import ExtensionTable
from panel.methods import require_form
from panel.paging import configure_list
from panel.posting import add_refusal, posted
from tenancy import scoping
from tenancy.audit import Actor
from values.errors import DomainError

PER_PAGE = 25


@require_safe
def extension_list(request):
    scoping.require_role(request.user)
    filterset = ExtensionFilter(request.GET, queryset=extensions_for(request.user), request=request)
    table = ExtensionTable(filterset.qs)
    configure_list(request, table, per_page=PER_PAGE)
    return render(
        request,
        "callback/extension_list.html",
        {"filter": filterset, "table": table, "can_write": scoping.can_write(request.user)},
    )


def _save_form(form: ExtensionForm, save):
    """`save(organization, setup)` for a valid form; a refusal becomes errors by the fields."""
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data["organization"], form.setup())
    except ValidationError as exc:  # DomainError, NotAllowed, or a model validator
        add_refusal(form, exc)
        return None


@require_form
def extension_create(request):
    scoping.require_write(request.user)
    form = ExtensionForm(posted(request), user=request.user)
    saved = request.method == "POST" and _save_form(
        form,
        lambda organization, setup: services.create_extension(
            actor=Actor.from_request(request), organization=organization, setup=setup
        ),
    )
    if saved:
        messages.success(request, f"Callback extension {saved.number} created.")
        return redirect("callback:extension_detail", pk=saved.pk)
    return render(
        request,
        "callback/extension_form.html",
        {"form": form, "extension": None, "pin_lock_warning": PIN_LOCK_WARNING},
    )


@require_form
def extension_edit(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    form = ExtensionForm(posted(request), user=request.user, instance=extension)
    saved = request.method == "POST" and _save_form(
        form,
        lambda organization, setup: services.update_extension(
            actor=Actor.from_request(request),
            extension=extension,
            organization=organization,
            setup=setup,
        ),
    )
    if saved:
        messages.success(request, f"Callback extension {saved.number} saved.")
        return redirect("callback:extension_detail", pk=extension.pk)
    return render(
        request,
        "callback/extension_form.html",
        {"form": form, "extension": extension, "pin_lock_warning": PIN_LOCK_WARNING},
    )


@require_safe
def extension_detail(request, pk):
    extension = get_extension_for_user(request.user, pk)
    can_write = scoping.can_write(request.user)
    links = [
        ("Authorized CallerIDs", reverse("callerids:list", args=[extension.pk])),
        ("Cost report", reverse("credit:cost_report", args=[extension.pk])),
        ("Calls in progress", reverse("credit:calls_in_progress", args=[extension.pk])),
    ]
    if can_write:
        links.append(("Setup", reverse("callback:extension_edit", args=[extension.pk])))
    return render(
        request,
        "callback/extension_detail.html",
        {
            "extension": extension,
            "links": links,
            "can_write": can_write,
            "pin_lock_warning": PIN_LOCK_WARNING,
        },
    )


@require_POST
def extension_deactivate(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    services.deactivate_extension(actor=Actor.from_request(request), extension=extension)
    messages.success(
        request, f"Callback extension {extension.number} deactivated: its callers are refused."
    )
    return redirect("callback:extension_detail", pk=extension.pk)


@require_POST
def extension_activate(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    services.activate_extension(actor=Actor.from_request(request), extension=extension)
    messages.success(request, f"Callback extension {extension.number} activated.")
    return redirect("callback:extension_detail", pk=extension.pk)


@require_form
def extension_delete(request, pk):
    extension = get_extension_for_user(request.user, pk, write=True)
    if request.method == "POST":
        try:
            services.delete_extension(actor=Actor.from_request(request), extension=extension)
        except DomainError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("callback:extension_delete", pk=extension.pk)
        messages.success(request, f"Callback extension {extension.number} deleted.")
        return redirect("callback:extension_list")
    return render(
        request,
        "callback/extension_confirm_delete.html",
        {"extension": extension, "blockers": services.deletion_blockers(extension)},
    )


urlpatterns = [
    path("extensions/", extension_list, name="extension_list"),
    path("extensions/new/", extension_create, name="extension_create"),
    path("extensions/<int:pk>/", extension_detail, name="extension_detail"),
    path("extensions/<int:pk>/edit/", extension_edit, name="extension_edit"),
    path("extensions/<int:pk>/deactivate/", extension_deactivate, name="extension_deactivate"),
    path("extensions/<int:pk>/activate/", extension_activate, name="extension_activate"),
    path("extensions/<int:pk>/delete/", extension_delete, name="extension_delete"),
]
