"""The Charging page's form (the rule is credit.services.charging)."""

from django import forms

from values.countries import COUNTRY_NAMES
from values.currencies import ISO_4217_CURRENCIES
from values.phone import COUNTRY_CODES


def _country_choices() -> list[tuple[str, str]]:
    return [("", "— none —")] + sorted(
        ((code, f"{code} — {COUNTRY_NAMES.get(code, code)}") for code in COUNTRY_CODES),
        key=lambda c: c[0],
    )


class ChargingForm(forms.Form):
    currency = forms.ChoiceField(
        choices=[(code, f"{code} — {name}") for code, name in ISO_4217_CURRENCIES.items()]
    )
    decimals = forms.TypedChoiceField(
        label="Decimals shown", choices=[(n, str(n)) for n in range(5)], coerce=int
    )
    default_country = forms.ChoiceField(
        label="Default country for phone numbers",
        required=False,
        choices=_country_choices,
        help_text="Numbers typed without + are stored in international form when they are "
        "valid for this country.",
    )

    def __init__(self, *args, currency_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if currency_locked:
            self.fields["currency"].disabled = True
            self.fields[
                "currency"
            ].help_text = (
                "Credit has already been granted in this currency, so it can no longer change."
            )
