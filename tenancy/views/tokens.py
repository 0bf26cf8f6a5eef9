"""API tokens for the PBX (SPEC §2): list, create (the token shown once), revoke. Admins only."""

import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from panel.methods import require_form
from panel.paging import configure_list
from panel.posting import add_refusal
from tenancy import scoping
from tenancy.audit import Actor
from tenancy.forms.tokens import TokenForm
from tenancy.models import ApiToken
from tenancy.services import tokens as services

PER_PAGE = 25
# The plaintext waits in the session between the POST and the page that shows it, and is
# removed from the session when shown: a reload or the back button never shows it again.
_SESSION_KEY = "api_token_plaintext_{pk}"


class TokenTable(tables.Table):
    name = tables.Column()
    prefix = tables.Column(verbose_name="Token", orderable=False)
    scope = tables.Column(accessor="reseller__name", verbose_name="Scope", default="Whole server")
    permissions = tables.Column(accessor="may_pbx", verbose_name="Permissions", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i")
    created_by = tables.Column(verbose_name="Created by", default="manage.py")
    last_used_at = tables.DateTimeColumn(verbose_name="Last used", format="Y-m-d H:i:s")
    last_used_address = tables.Column(verbose_name="Last address")
    status = tables.Column(accessor="revoked_at", verbose_name="Status", default="Active")
    actions = tables.TemplateColumn(
        template_name="tenancy/token_actions.html", verbose_name="", orderable=False
    )

    class Meta:
        model = ApiToken
        fields = [
            "name",
            "prefix",
            "scope",
            "permissions",
            "created_at",
            "created_by",
            "last_used_at",
            "last_used_address",
            "status",
            "actions",
        ]
        order_by = "-created_at"
        attrs = {"class": "table table-sm table-striped table-hover align-middle"}
        empty_text = "No API tokens yet."

    def render_prefix(self, value):
        return format_html("<code>{}_{}_…</code>", services.TOKEN_PREFIX, value)

    def render_permissions(self, record):
        return ", ".join(record.permissions)

    def render_status(self, value):
        return format_html(
            '<span class="badge text-bg-secondary">Revoked {}</span>', f"{value:%Y-%m-%d %H:%M}"
        )


@require_safe
def token_list(request):
    scoping.require_admin(request.user)
    table = TokenTable(ApiToken.objects.select_related("reseller", "created_by"))
    configure_list(request, table, per_page=PER_PAGE)
    return render(request, "tenancy/token_list.html", {"table": table})


@require_form
def token_create(request):
    scoping.require_admin(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_token(
                actor=Actor.from_request(request),
                name=form.cleaned_data["name"],
                reseller=form.cleaned_data["reseller"],
                permissions=form.cleaned_data["permissions"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            request.session[_SESSION_KEY.format(pk=created.token.pk)] = created.plaintext
            return redirect("tenancy:token_created", pk=created.token.pk)
    return render(request, "tenancy/token_form.html", {"form": form})


@require_safe
def token_created(request, pk):
    scoping.require_admin(request.user)
    token = scoping.get_or_404(ApiToken.objects.select_related("reseller"), pk=pk)
    plaintext = request.session.pop(_SESSION_KEY.format(pk=token.pk), None)
    return render(request, "tenancy/token_created.html", {"token": token, "plaintext": plaintext})


@require_form
def token_revoke(request, pk):
    scoping.require_admin(request.user)
    token = scoping.get_or_404(ApiToken.objects.select_related("reseller"), pk=pk)
    if request.method == "POST":
        services.revoke_token(actor=Actor.from_request(request), token=token)
        messages.success(request, f"Token “{token.name}” revoked: the PBX using it is refused.")
        return redirect("tenancy:token_list")
    return render(request, "tenancy/token_confirm_revoke.html", {"token": token})


urlpatterns = [
    path("tokens/", token_list, name="token_list"),
    path("tokens/new/", token_create, name="token_create"),
    path("tokens/<int:pk>/created/", token_created, name="token_created"),
    path("tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
]
