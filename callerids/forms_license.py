"""The License page's form (the rule is callerids.services.license.update_license)."""

from django import forms

from panel.fields import WholeNumberField
from tenancy.models import MAX_LICENSE


class LicenseForm(forms.Form):
    max_active_callerids = WholeNumberField(
        label="Maximum active authorized CallerIDs", min_value=0, max_value=MAX_LICENSE
    )
