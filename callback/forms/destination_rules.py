"""The destination rules form (SPEC §11): validates and normalizes, writes nothing."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from callback.destinations import clean_countries, clean_prefixes
from callback.models import DestinationRules
from callback.services.destination_rules import RulesSetup
from tenancy.preferences import get_preferences
from values.money import MAX_OPERATION, format_money, read_amount

RATE_DECIMALS = 4  # a rate per minute may be finer than the shown decimals


class DestinationRulesForm(forms.Form):
    blocked_prefixes = forms.CharField(
        label="Blocked prefixes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "e.g. +882\n+883"}),
        help_text="International prefixes calls may never go to, one per line (e.g. +882, "
        "+883 for international networks). 00 or no + means the same prefix.",
    )
    allowed_countries = forms.CharField(
        label="Allowed countries",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. RO, DE, FR"}),
        help_text="ISO country codes separated by commas or spaces. Empty = every country.",
    )
    refuse_premium = forms.BooleanField(
        label="Refuse premium-rate and shared-cost numbers",
        required=False,
        initial=True,
        help_text="Judged by the number's type in the phone-number database (libphonenumber). "
        "Premium-rate numbers are the classic callback fraud: keep this on.",
    )
    # Read like every money field (values.money.read_amount): ASCII digits and a dot.
    max_rate_per_minute = forms.CharField(
        label="Maximum rate per minute",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="Calls rated above this per minute (the rate the PBX sends with the start) "
        "are refused. Empty = no maximum. At most 4 decimals.",
    )

    def __init__(self, *args, instance: DestinationRules, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "blocked_prefixes": "\n".join(instance.blocked_prefixes),
                "allowed_countries": ", ".join(instance.allowed_countries),
                "refuse_premium": instance.refuse_premium,
                "max_rate_per_minute": (
                    f"{instance.max_rate_per_minute.normalize():f}"
                    if instance.max_rate_per_minute is not None
                    else None
                ),
            },
        )
        super().__init__(*args, **kwargs)

    def clean_blocked_prefixes(self) -> list[str]:
        try:
            return clean_prefixes(self.cleaned_data["blocked_prefixes"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_allowed_countries(self) -> list[str]:
        try:
            return clean_countries(self.cleaned_data["allowed_countries"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_max_rate_per_minute(self) -> Decimal | None:
        text = self.cleaned_data["max_rate_per_minute"].strip()
        if not text:
            return None
        value = read_amount(text, field="maximum rate")
        if value < 0:
            raise forms.ValidationError("Enter a rate of 0 or more.")
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > RATE_DECIMALS:
            raise forms.ValidationError(f"Use at most {RATE_DECIMALS} decimals.")
        if value > MAX_OPERATION:
            preferences = get_preferences()
            limit = format_money(MAX_OPERATION, preferences.decimals, preferences.currency)
            raise forms.ValidationError(f"Enter at most {limit}.")
        return value

    def setup(self) -> RulesSetup:
        data = self.cleaned_data
        return RulesSetup(
            blocked_prefixes=data["blocked_prefixes"],
            allowed_countries=data["allowed_countries"],
            refuse_premium=data["refuse_premium"],
            max_rate_per_minute=data["max_rate_per_minute"],
        )
