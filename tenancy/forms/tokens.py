"""The form that creates an API token (SPEC §2, §13): a name, a scope and permissions."""

from django import forms

from tenancy.models import Reseller, TokenPermission


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Which PBX or system uses it, e.g. “pbx1 Bucharest” or “acme shop”.",
    )
    reseller = forms.ModelChoiceField(
        queryset=Reseller.objects.all(),
        required=False,
        empty_label="Whole server (every reseller)",
        label="Scope",
        help_text="A reseller's token sees only that reseller's extensions and CallerIDs.",
    )
    permissions = forms.MultipleChoiceField(
        choices=TokenPermission.choices,
        initial=[TokenPermission.PBX],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one permission."},
        help_text=(
            "PBX: the questions a PBX asks at call time. Provisioning: a shop or CRM adds, "
            "edits and removes CallerIDs and recharges credit."
        ),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name for the token.")
        return name
