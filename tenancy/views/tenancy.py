"""Resellers, organizations and users (issue 3). Each view starts with one scoping helper:
objects outside the user's scope answer 404, forbidden actions 403."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from panel.methods import require_form
from panel.paging import configure_list
from panel.posting import add_refusal, posted
from tenancy import scoping, selectors
from tenancy.audit import Actor
from tenancy.filters.tenancy import OrganizationFilter, ResellerFilter, UserFilter
from tenancy.forms.tenancy import (
    OrganizationCreateForm,
    OrganizationEditForm,
    PasswordResetForm,
    ResellerForm,
    UserCreateForm,
    UserEditForm,
)
from tenancy.services import tenancy as services
from tenancy.tables.tenancy import OrganizationTable, ResellerTable, UserTable
from values.errors import DomainError

PER_PAGE = 25


def list_page(request, *, queryset, filterset_class, table_class, template, **context):
    """A searchable, sortable, paginated list: one scoped queryset, a filter and a table."""
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    table = table_class(filterset.qs, **context.pop("table_kwargs", {}))
    configure_list(request, table, per_page=PER_PAGE)
    return render(request, template, {"filter": filterset, "table": table, **context})


# Resellers: administrators only.


@require_safe
def reseller_list(request):
    scoping.require_admin(request.user)
    return list_page(
        request,
        queryset=selectors.reseller_list(request.user),
        filterset_class=ResellerFilter,
        table_class=ResellerTable,
        template="tenancy/reseller_list.html",
    )


@require_form
def reseller_create(request):
    scoping.require_admin(request.user)
    form = ResellerForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            reseller = services.create_reseller(
                actor=Actor.from_request(request), **form.cleaned_data
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'Reseller "{reseller.name}" created.')
            return redirect("tenancy:reseller_list")
    return render(request, "tenancy/reseller_form.html", {"form": form, "reseller": None})


@require_form
def reseller_edit(request, pk):
    reseller = scoping.get_reseller_for_user(request.user, pk, write=True)
    initial = {
        "name": reseller.name,
        "max_active_callerids": reseller.max_active_callerids,
        "may_grant_unlimited": reseller.may_grant_unlimited,
        "active": reseller.active,
    }
    form = ResellerForm(posted(request), initial=initial, reseller=reseller)
    if request.method == "POST" and form.is_valid():
        try:
            reseller = services.update_reseller(
                actor=Actor.from_request(request), reseller=reseller, **form.cleaned_data
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'Reseller "{reseller.name}" saved.')
            if (
                reseller.max_active_callerids is not None
                and reseller.max_active_callerids < reseller.active_callerids
            ):
                messages.warning(
                    request,
                    f"{reseller.active_callerids} CallerIDs are already enabled, more than the "
                    "new maximum: they stay enabled, only new activations are refused.",
                )
            return redirect("tenancy:reseller_list")
    context = {"form": form, "reseller": reseller, "usage": selectors.reseller_usage(reseller)}
    return render(request, "tenancy/reseller_form.html", context)


@require_POST
def reseller_set_active(request, pk):
    reseller = scoping.get_reseller_for_user(request.user, pk, write=True)
    active = request.POST.get("active") == "1"
    services.set_reseller_active(
        actor=Actor.from_request(request), reseller=reseller, active=active
    )
    messages.success(
        request, f'Reseller "{reseller.name}" {"reactivated" if active else "deactivated"}.'
    )
    return redirect("tenancy:reseller_list")


@require_form
def reseller_delete(request, pk):
    reseller = scoping.get_reseller_for_user(request.user, pk, write=True)
    if request.method == "POST":
        try:
            services.delete_reseller(actor=Actor.from_request(request), reseller=reseller)
        except DomainError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("tenancy:reseller_delete", pk=reseller.pk)
        messages.success(request, f'Reseller "{reseller.name}" deleted.')
        return redirect("tenancy:reseller_list")
    context = {"reseller": reseller, "usage": selectors.reseller_usage(reseller)}
    return render(request, "tenancy/reseller_confirm_delete.html", context)


# Organizations: admins for all, resellers for their own, staff read-only.


@require_safe
def organization_list(request):
    scoping.require_role(request.user)
    return list_page(
        request,
        queryset=selectors.organization_list(request.user),
        filterset_class=OrganizationFilter,
        table_class=OrganizationTable,
        template="tenancy/organization_list.html",
        table_kwargs={"can_write": scoping.can_write(request.user)},
    )


@require_form
def organization_create(request):
    scoping.require_write(request.user)
    form = OrganizationCreateForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(
                actor=Actor.from_request(request), **form.cleaned_data
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'Organization "{organization.name}" created.')
            return redirect("tenancy:organization_list")
    return render(request, "tenancy/organization_form.html", {"form": form, "organization": None})


@require_form
def organization_edit(request, pk):
    organization = scoping.get_organization_for_user(request.user, pk, write=True)
    initial = {"name": organization.name, "active": organization.active}
    form = OrganizationEditForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.update_organization(
                actor=Actor.from_request(request), organization=organization, **form.cleaned_data
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'Organization "{organization.name}" saved.')
            return redirect("tenancy:organization_list")
    context = {
        "form": form,
        "organization": organization,
        "usage": selectors.organization_usage(organization),
    }
    return render(request, "tenancy/organization_form.html", context)


@require_POST
def organization_set_active(request, pk):
    organization = scoping.get_organization_for_user(request.user, pk, write=True)
    active = request.POST.get("active") == "1"
    services.set_organization_active(
        actor=Actor.from_request(request), organization=organization, active=active
    )
    messages.success(
        request,
        f'Organization "{organization.name}" {"reactivated" if active else "deactivated"}.',
    )
    return redirect("tenancy:organization_list")


@require_form
def organization_delete(request, pk):
    organization = scoping.get_organization_for_user(request.user, pk, write=True)
    if request.method == "POST":
        try:
            services.delete_organization(
                actor=Actor.from_request(request), organization=organization
            )
        except DomainError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("tenancy:organization_delete", pk=organization.pk)
        messages.success(request, f'Organization "{organization.name}" deleted.')
        return redirect("tenancy:organization_list")
    context = {"organization": organization, "usage": selectors.organization_usage(organization)}
    return render(request, "tenancy/organization_confirm_delete.html", context)


# Users: administrators only.


@require_safe
def user_list(request):
    scoping.require_admin(request.user)
    return list_page(
        request,
        queryset=selectors.user_list(request.user),
        filterset_class=UserFilter,
        table_class=UserTable,
        template="tenancy/user_list.html",
    )


@require_form
def user_create(request):
    scoping.require_admin(request.user)
    form = UserCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                actor=Actor.from_request(request),
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                role=data["role"],
                reseller=data["reseller"],
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'User "{user.username}" created.')
            return redirect("tenancy:user_list")
    return render(request, "tenancy/user_form.html", {"form": form, "account": None})


@require_form
def user_edit(request, pk):
    account = scoping.get_user_for_admin(request.user, pk)
    profile = getattr(account, "profile", None)
    initial = {
        "role": profile.role if profile else None,
        "reseller": profile.reseller_id if profile else None,
        "is_active": account.is_active,
    }
    form = UserEditForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(
                actor=Actor.from_request(request), user=account, **form.cleaned_data
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'User "{account.username}" saved.')
            return redirect("tenancy:user_list")
    return render(request, "tenancy/user_form.html", {"form": form, "account": account})


@require_POST
def user_set_active(request, pk):
    account = scoping.get_user_for_admin(request.user, pk)
    is_active = request.POST.get("active") == "1"
    try:
        services.set_user_active(
            actor=Actor.from_request(request), user=account, is_active=is_active
        )
    except DomainError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("tenancy:user_edit", pk=account.pk)
    messages.success(
        request, f'User "{account.username}" {"reactivated" if is_active else "deactivated"}.'
    )
    return redirect("tenancy:user_list")


@require_form
def user_password(request, pk):
    account = scoping.get_user_for_admin(request.user, pk)
    form = PasswordResetForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_user_password(
                actor=Actor.from_request(request),
                user=account,
                password=form.cleaned_data["password1"],
            )
        except DomainError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f'Password of "{account.username}" changed.')
            return redirect("tenancy:user_edit", pk=account.pk)
    return render(request, "tenancy/user_password.html", {"form": form, "account": account})


urlpatterns = [
    path("resellers/", reseller_list, name="reseller_list"),
    path("resellers/new/", reseller_create, name="reseller_create"),
    path("resellers/<int:pk>/", reseller_edit, name="reseller_edit"),
    path("resellers/<int:pk>/active/", reseller_set_active, name="reseller_set_active"),
    path("resellers/<int:pk>/delete/", reseller_delete, name="reseller_delete"),
    path("organizations/", organization_list, name="organization_list"),
    path("organizations/new/", organization_create, name="organization_create"),
    path("organizations/<int:pk>/", organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/active/", organization_set_active, name="organization_set_active"),
    path("organizations/<int:pk>/delete/", organization_delete, name="organization_delete"),
    path("users/", user_list, name="user_list"),
    path("users/new/", user_create, name="user_create"),
    path("users/<int:pk>/", user_edit, name="user_edit"),
    path("users/<int:pk>/active/", user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", user_password, name="user_password"),
]
