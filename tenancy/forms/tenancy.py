"""Forms of the tenancy and server-settings pages: they validate and normalize only;
the services apply the rules that need the database (and check uniqueness again)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from panel.fields import WholeNumberField
from tenancy import scoping
from tenancy.models import MAX_LICENSE, Reseller, Role
from tenancy.services.tenancy import check_binding, check_reseller_name_free
from values.errors import DomainError


class ResellerForm(forms.Form):
    name = forms.CharField(max_length=100)
    max_active_callerids = WholeNumberField(
        label="Maximum active CallerIDs",
        required=False,
        min_value=0,
        max_value=MAX_LICENSE,
        help_text="Its share of the license. Leave empty for no own cap.",
    )
    may_grant_unlimited = forms.BooleanField(label="May grant Unlimited credit", required=False)
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, reseller: Reseller | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reseller = reseller

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        # Said at once, next to the field, with the other errors (the service checks again).
        try:
            check_reseller_name_free(name, exclude_pk=self.reseller.pk if self.reseller else None)
        except DomainError as exc:
            raise forms.ValidationError(exc.message_dict["name"]) from None
        return name


class OrganizationCreateForm(forms.Form):
    reseller = forms.ModelChoiceField(queryset=Reseller.objects.none())
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only resellers the user may write under: any other posted id is "not a valid choice".
        resellers = scoping.writable_resellers_for(user)
        self.fields["reseller"].queryset = resellers
        own = scoping.reseller_of(user)
        if own is not None:
            self.fields["reseller"].initial = own.pk
            self.fields["reseller"].empty_label = None


class OrganizationEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False)


class _RoleBindingForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    reseller = forms.ModelChoiceField(
        queryset=Reseller.objects.all(),
        required=False,
        empty_label="— none (whole server) —",
        help_text="Required for the reseller role; optional for staff (empty = whole server); "
        "empty for administrators.",
    )

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role:
            try:
                check_binding(role, cleaned.get("reseller"))
            except DomainError as exc:
                self.add_error(None, exc)  # the error names its field
        return cleaned


class _NewPasswordMixin(forms.Form):
    service_fields = {"password": "password1"}  # the service's name: add_refusal
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean_password2(self) -> str:
        first = self.cleaned_data.get("password1")
        second = self.cleaned_data["password2"]
        if first and first != second:
            raise forms.ValidationError("The two passwords differ.")
        return second


class UserCreateForm(_RoleBindingForm, _NewPasswordMixin):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    field_order = ["username", "email", "role", "reseller", "password1", "password2"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        # Said at once, next to the field, with the other errors (the service checks again).
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f'A user named "{username}" already exists.')
        return username


class UserEditForm(_RoleBindingForm):
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="Inactive users cannot log in."
    )


class PasswordResetForm(_NewPasswordMixin):
    pass
