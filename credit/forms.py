"""The Add credit form of the credit management page (SPEC §6): validates and normalizes.

What the amount may do to the balance (the table of SPEC §6) is the service's to decide
(credit.services.recharge.add_credit); this form only reads what was typed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from callerids.services.validation import NOT_BOTH
from tenancy import scoping
from values.money import ORDER_NUMBER_MAX, parse_amount

EXPIRED = "This form has expired; open the page again and re-enter the credit."


class AddCreditForm(forms.Form):
    amount = forms.CharField(
        label="Add credit",
        required=False,
        max_length=32,
        help_text="A negative amount removes credit; dot as the decimal separator.",
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "e.g. 10.00 or -5"}
        ),
    )
    unlimited = forms.BooleanField(label="Unlimited", required=False)
    order_number = forms.CharField(
        label="Order number",
        required=False,
        max_length=ORDER_NUMBER_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "optional"}),
    )
    # Made when the form is shown: a second POST with it changes nothing (SPEC §6).
    one_time_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"required": EXPIRED, "invalid": EXPIRED},
    )

    def __init__(
        self, data=None, *, decimals: int, may_grant_unlimited: bool, currency: str = "", **kwargs
    ):
        super().__init__(data, **kwargs)
        self.decimals = decimals
        self.currency = currency
        self.may_grant_unlimited = may_grant_unlimited
        if not self.is_bound:
            self.initial.setdefault("one_time_key", uuid.uuid4())
        if not may_grant_unlimited:
            # Without the right the option is hidden (and refused in clean()).
            del self.fields["unlimited"]

    def clean_amount(self) -> Decimal | None:
        text = self.cleaned_data.get("amount", "")
        if not text:
            return None
        return parse_amount(
            text, decimals=self.decimals, allow_negative=True, currency=self.currency
        )

    def clean(self):
        data = super().clean()
        if not self.may_grant_unlimited:
            data["unlimited"] = False
            if self.data.get("unlimited"):
                raise ValidationError(scoping.UNLIMITED_REFUSED)
        if data.get("unlimited") and data.get("amount") is not None:
            self.add_error("amount", NOT_BOTH)
        return data
