"""The Notifications page's form: validates and normalizes only."""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django import forms
from django.core.validators import validate_email

from values.money import MAX_BALANCE


class ChannelSettingsForm(forms.Form):
    low_credit_threshold = forms.CharField(
        required=False,
        label="Low-credit threshold",
        help_text="credit.low is sent once when a CallerID's available credit falls below "
        "this, and again only after a recharge brings it back up. Empty: no credit.low"
        " (for a reseller: the server's threshold applies).",
    )
    emails = forms.CharField(
        required=False,
        label="E-mail addresses",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    webhook_url = forms.CharField(
        required=False,
        label="Webhook URL",
        max_length=500,
        help_text="http:// or https://; each event is POSTed as JSON, signed with the secret "
        "in X-CBM-Signature.",
    )

    def clean_low_credit_threshold(self) -> Decimal | None:
        raw = self.cleaned_data["low_credit_threshold"].strip()
        if not raw:
            return None
        if "," in raw:
            raise forms.ValidationError("Use a dot as the decimal separator.")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount such as 5 or 2.50.") from None
        if not value.is_finite() or value <= 0 or value > MAX_BALANCE:
            raise forms.ValidationError("Enter an amount above 0.")
        if value.as_tuple().exponent < -4:
            raise forms.ValidationError("At most 4 decimals.")
        return value

    def clean_emails(self) -> list[str]:
        addresses = []
        for line in self.cleaned_data["emails"].replace(",", "\n").splitlines():
            address = line.strip()
            if not address:
                continue
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"{address} is not an e-mail address.") from None
            if address not in addresses:
                addresses.append(address)
        if len(addresses) > 20:
            raise forms.ValidationError("At most 20 addresses.")
        return addresses

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise forms.ValidationError(
                    "A webhook URL must start with http:// or https:// and name a host."
                )
        return url


class ServerChannelSettingsForm(ChannelSettingsForm):
    allow_private_webhooks = forms.BooleanField(
        required=False,
        label="Allow webhooks to loopback, private and link-local addresses",
        help_text="Off by default: a webhook URL could otherwise reach services inside your "
        "network (SSRF). Turn on only for receivers on your own network.",
    )
