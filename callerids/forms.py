"""Forms of the authorized CallerIDs pages (SPEC §5.1, §5.3): validate and normalize only.

The services check everything again (and the things only the database knows: duplicates,
the license); these forms exist so that each mistake is shown next to its field.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError

from callerids.models import CallerIDStatus
from callerids.pins import is_valid_pin
from callerids.services.validation import MAX_ROWS, NOT_BOTH, NewCallerID, clean_number
from values.errors import DomainError
from values.money import ORDER_NUMBER_MAX, parse_amount

SHOWN_ROWS = 3  # rows shown open on the add form; the others are one click away
PIN_MESSAGE = "A PIN has 4 to 10 digits."
PIN_RESET_HELP = "A new PIN or removing the PIN resets the wrong-PIN count."
ROW_FIELDS = ("number", "pin", "credit", "order_number")


def _text_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", **attrs})


def _normalized_number(raw: str, default_country: str | None) -> str:
    try:
        return clean_number(raw, default_country=default_country)
    except DomainError as exc:
        raise ValidationError(exc.messages) from None


def _checked_pin(pin: str) -> str:
    pin = (pin or "").strip()
    if pin and not is_valid_pin(pin):
        raise ValidationError(PIN_MESSAGE)
    return pin


class OneTimeKeyForm(forms.Form):
    """The hidden one-time key of a form that adds (SPEC §6): made when the form is shown."""

    one_time_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, data=None, **kwargs):
        kwargs.setdefault("initial", {"one_time_key": uuid.uuid4()})
        super().__init__(data, **kwargs)


class NewCallerIDRowForm(forms.Form):
    """One row of the add form. Every field is optional until the row is used."""

    number = forms.CharField(
        label="Callback number",
        required=False,
        max_length=64,
        widget=_text_input(placeholder="e.g. +40721000123"),
    )
    pin = forms.CharField(
        label="PIN",
        required=False,
        max_length=10,
        widget=_text_input(inputmode="numeric", placeholder="optional"),
    )
    credit = forms.CharField(
        label="Initial credit",
        required=False,
        max_length=32,
        widget=_text_input(inputmode="decimal"),
    )
    unlimited = forms.BooleanField(label="Unlimited", required=False)
    order_number = forms.CharField(
        label="Order number",
        required=False,
        max_length=ORDER_NUMBER_MAX,
        widget=_text_input(placeholder="optional"),
    )

    def __init__(
        self, *args, may_grant_unlimited: bool, decimals: int, default_country, currency="", **kw
    ):
        super().__init__(*args, **kw)
        self.decimals = decimals
        self.currency = currency
        self.default_country = default_country
        if not may_grant_unlimited:
            del self.fields["unlimited"]
        self.fields["credit"].widget.attrs["placeholder"] = f"{0:.{decimals}f}"

    @property
    def is_used(self) -> bool:
        """A row counts when anything but the Unlimited box was typed into it."""
        data = getattr(self, "cleaned_data", None) or {}
        return any(str(data.get(name) or "").strip() for name in ROW_FIELDS)

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        return _normalized_number(number, self.default_country) if number else ""

    def clean_pin(self) -> str:
        return _checked_pin(self.cleaned_data["pin"])

    def clean_credit(self):
        text = self.cleaned_data["credit"].strip()
        if not text:
            return None
        return parse_amount(
            text, decimals=self.decimals, field="initial credit", currency=self.currency
        )

    def clean_order_number(self) -> str:
        return self.cleaned_data["order_number"].strip()

    def clean(self):
        data = super().clean()
        if not self.is_used:
            return data
        if not data.get("number") and "number" not in self.errors:
            self.add_error("number", "Enter the callback number.")
        if data.get("unlimited") and data.get("credit") is not None:
            self.add_error("credit", NOT_BOTH)
        return data

    def new_callerid(self) -> NewCallerID:
        data = self.cleaned_data
        return NewCallerID(
            number=data["number"],
            pin=data["pin"],
            credit=data["credit"],
            unlimited=bool(data.get("unlimited")),
            order_number=data["order_number"],
        )


class BaseNewCallerIDFormSet(forms.BaseFormSet):
    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # Each row's fields are named after their row, for screen readers and journeys.
        form.row = i + 1
        for name, field in form.fields.items():
            if name != "unlimited":  # its label stays short: the template names the row
                field.label = f"{field.label} (row {form.row})"
        return form

    def clean(self):
        if any(self.errors):
            return
        if not self.used_forms():
            raise ValidationError("Enter at least one callback number.")

    def used_forms(self) -> list[NewCallerIDRowForm]:
        return [form for form in self.forms if form.is_used]

    def show_row_errors(self, used: list[NewCallerIDRowForm], row_errors: dict) -> None:
        """Put a service's RowErrors (indexed like `used`) next to their rows."""
        for index, messages in row_errors.items():
            if 0 <= index < len(used):
                used[index].add_error(None, messages)


NewCallerIDFormSet = forms.formset_factory(
    NewCallerIDRowForm,
    formset=BaseNewCallerIDFormSet,
    extra=MAX_ROWS,
    max_num=MAX_ROWS,
    validate_max=True,
    absolute_max=MAX_ROWS,
)


class EditCallerIDForm(forms.Form):
    """The edit form (SPEC §5.3): number, new PIN or Remove PIN, status. No credit here."""

    number = forms.CharField(label="Callback number", max_length=64, widget=_text_input())
    pin = forms.CharField(
        label="New PIN",
        required=False,
        max_length=10,
        widget=_text_input(inputmode="numeric"),
        help_text="4 to 10 digits; leave empty to keep the current PIN.",
    )
    remove_pin = forms.BooleanField(label="Remove PIN", required=False)
    status = forms.ChoiceField(
        label="Status",
        choices=[
            (CallerIDStatus.ENABLED, "Enabled"),
            (CallerIDStatus.DISABLED, "Disabled"),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, default_country, has_pin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_country = default_country
        if has_pin:
            self.fields["remove_pin"].help_text = PIN_RESET_HELP
        else:
            self.fields["remove_pin"].disabled = True
            self.fields["remove_pin"].help_text = "This CallerID has no PIN."

    def clean_number(self) -> str:
        return _normalized_number(self.cleaned_data["number"].strip(), self.default_country)

    def clean_pin(self) -> str:
        return _checked_pin(self.cleaned_data["pin"])

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("remove_pin"):
            self.add_error("remove_pin", "Set a new PIN or remove the PIN, not both.")
        return data
