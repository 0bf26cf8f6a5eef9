"""The callback extension setup form (SPEC §3): validates and normalizes, writes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.db.models import Q

from callback.models import (
    EXTENSION_NUMBER_RE,
    CallbackExtension,
    OutboundCallerIDMode,
    ReturnMode,
)
from callback.services.extensions import (
    CALLER_MODE_ADMIN_ONLY,
    ExtensionSetup,
    duplicate_number_message,
)
from panel.fields import WholeNumberField
from tenancy import scoping
from tenancy.preferences import get_preferences
from values.money import MAX_BALANCE, format_money, read_amount
from values.phone import InvalidNumber, normalize_number

NUMBER_FORMAT_MESSAGE = (
    "Use 1 to 10 digits, optionally followed by * and 1 to 10 digits (e.g. 0003*001)."
)
CALLER_MODE_WARNING = (
    "“To the caller callerID” calls back any caller whose number is not hidden, at the "
    "operator's cost: a spoofed premium-rate number is the classic fraud. Only administrators "
    "may choose it."
)
PIN_LOCK_WARNING = "0 allows unlimited PIN guessing: callers can try every PIN."
PLACEHOLDERS = {
    "number": "e.g. 0003*001",
    "name": "",
    "fixed_number": "e.g. +40721000123",
    "disconnect_sound": "e.g. custom/credit-over",
    "outbound_callerid": "e.g. +40721000123",
}
SOUND_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/]*$")

FIELDSETS = [
    ("Account", ["organization", "number", "name", "active"]),
    (
        "Callback number behavior",
        ["trigger_after_seconds", "return_mode", "fixed_number", "disconnect_sound"],
    ),
    (
        "Service security",
        [
            "min_credit",
            "pin_lock_limit",
            "dial_timeout_seconds",
            "max_call_duration_seconds",
            "max_calls_per_callerid",
            "max_calls",
            "daily_limit",
        ],
    ),
    ("CallerID management", ["outbound_callerid_mode", "outbound_callerid"]),
]


def _amount_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.reseller.name})"


class ExtensionForm(forms.Form):
    organization = OrganizationChoiceField(queryset=None, empty_label="Choose an organization")
    number = forms.CharField(
        label="Extension number",
        max_length=21,
        help_text="Unique on the server, e.g. 0003*001.",
    )
    name = forms.CharField(max_length=100, required=False)
    active = forms.BooleanField(required=False, initial=True)
    trigger_after_seconds = WholeNumberField(
        label="Trigger call return after N seconds of ringing",
        min_value=1,
        max_value=60,
        initial=5,
        help_text="1 to 60 seconds.",
    )
    return_mode = forms.ChoiceField(
        label="Return calls",
        choices=ReturnMode.choices,
        initial=ReturnMode.AUTHORIZED,
        widget=forms.RadioSelect,
    )
    fixed_number = forms.CharField(
        label="Number where calls should be returned",
        max_length=40,
        required=False,
        help_text="Required, and only used, with “to a fixed number”.",
    )
    disconnect_sound = forms.CharField(
        label="Play before disconnecting the call during conversation",
        max_length=100,
        required=False,
        help_text="A sound file name on the PBX, played when the call's credit runs out.",
    )
    # Amounts are read like every money field (values.money.read_amount): ASCII digits and
    # a dot; Django's DecimalField would read "١" (Arabic-Indic one) as 1.
    min_credit = forms.CharField(
        label="Do not call back if available credit is below",
        max_length=32,
        initial="0",
        widget=_amount_input(),
    )
    pin_lock_limit = WholeNumberField(
        label="Lock a CallerID after N wrong PINs in a row",
        min_value=0,
        max_value=20,
        initial=5,
        help_text="0 to 20.",
    )
    dial_timeout_seconds = WholeNumberField(
        label="Caller must dial the destination within N seconds",
        min_value=1,
        max_value=60,
        initial=10,
        help_text="1 to 60 seconds.",
    )
    max_call_duration_seconds = WholeNumberField(
        label="Maximum call duration (seconds)",
        min_value=60,
        max_value=86400,
        initial=3600,
        help_text=(
            "60 to 86,400 seconds. The PBX disconnects every call after this time, even "
            "when the credit would last longer."
        ),
    )
    max_calls_per_callerid = WholeNumberField(
        label="Maximum simultaneous calls per CallerID",
        min_value=1,
        required=False,
        initial=1,
        help_text=(
            "Calls in progress at once from one authorized CallerID. Empty = no limit; "
            "each call holds credit, so the credit is never overspent either way."
        ),
    )
    max_calls = WholeNumberField(
        label="Maximum simultaneous calls on this extension",
        min_value=1,
        required=False,
        help_text="Calls in progress at once on this extension, all callers together. "
        "Empty = no limit.",
    )
    daily_limit = forms.CharField(
        label="Daily spending limit per CallerID",
        max_length=32,
        required=False,
        widget=_amount_input(),
        help_text="Most a CallerID may spend in one day (server time zone), calls in progress "
        "included. Empty = no limit.",
    )
    outbound_callerid_mode = forms.ChoiceField(
        label="CallerID number in public calls",
        choices=OutboundCallerIDMode.choices,
        initial=OutboundCallerIDMode.SERVER,
        widget=forms.RadioSelect,
    )
    outbound_callerid = forms.CharField(
        label="CallerID number (set by user)",
        max_length=40,
        required=False,
        help_text="Required, and only used, with “set by user”.",
    )

    def __init__(self, *args, user, instance: CallbackExtension | None = None, **kwargs):
        self.user = user
        self.instance = instance
        self.preferences = get_preferences()
        if instance is not None:
            kwargs.setdefault("initial", self._initial_from(instance))
        super().__init__(*args, **kwargs)
        # Active organizations in scope, and the current one even if it was deactivated.
        offered = Q(active=True)
        if instance is not None:
            offered |= Q(pk=instance.organization_id)
        self.fields["organization"].queryset = scoping.organizations_for(user).filter(offered)
        self.is_admin = scoping.is_admin(user)
        self.caller_mode_warning = ""
        if self.is_admin:
            self.caller_mode_warning = CALLER_MODE_WARNING
        elif instance is None or instance.return_mode != ReturnMode.CALLER:
            # Not offered to other roles (only the widget hides it), so that a posted value
            # gets the reason from clean_return_mode instead of "not a valid choice".
            self.fields["return_mode"].widget.choices = [
                c for c in ReturnMode.choices if c[0] != ReturnMode.CALLER
            ]
        else:
            self.fields["return_mode"].help_text = CALLER_MODE_ADMIN_ONLY
        for name, example in PLACEHOLDERS.items():
            self.fields[name].widget.attrs["placeholder"] = example
        decimals = self.preferences.decimals
        # Shown beside the amount fields (callback/templates/callback/extension_form.html).
        self.currency = self.preferences.currency
        self.fields["min_credit"].help_text = f"0 or more, at most {decimals} decimals."
        self.fields["daily_limit"].help_text += f" At most {decimals} decimals."

    @staticmethod
    def _initial_from(instance: CallbackExtension) -> dict:
        return {
            "organization": instance.organization_id,
            "number": instance.number,
            "name": instance.name,
            "active": instance.active,
            "trigger_after_seconds": instance.trigger_after_seconds,
            "return_mode": instance.return_mode,
            "fixed_number": instance.fixed_number,
            "disconnect_sound": instance.disconnect_sound,
            "min_credit": f"{instance.min_credit.normalize():f}",
            "pin_lock_limit": instance.pin_lock_limit,
            "dial_timeout_seconds": instance.dial_timeout_seconds,
            "outbound_callerid_mode": instance.outbound_callerid_mode,
            "outbound_callerid": instance.outbound_callerid,
            "max_call_duration_seconds": instance.max_call_duration_seconds,
            "max_calls_per_callerid": instance.max_calls_per_callerid,
            "max_calls": instance.max_calls,
            "daily_limit": (
                f"{instance.daily_limit.normalize():f}"
                if instance.daily_limit is not None
                else None
            ),
        }

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in FIELDSETS]

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if not re.match(EXTENSION_NUMBER_RE, number):
            raise forms.ValidationError(NUMBER_FORMAT_MESSAGE)
        taken = CallbackExtension.objects.filter(number=number)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(duplicate_number_message(number))
        return number

    def clean_return_mode(self) -> str:
        mode = self.cleaned_data["return_mode"]
        if mode == ReturnMode.CALLER and not self.is_admin:
            raise forms.ValidationError(CALLER_MODE_ADMIN_ONLY)
        return mode

    def clean_min_credit(self) -> Decimal:
        return self._amount(self.cleaned_data["min_credit"], "minimum credit")

    def clean_daily_limit(self) -> Decimal | None:
        text = self.cleaned_data["daily_limit"].strip()
        return self._amount(text, "daily limit") if text else None

    def _amount(self, text: str, name: str) -> Decimal:
        """A typed amount: 0 to the largest balance, at most the shown decimals."""
        value = read_amount(text, field=name)
        decimals = self.preferences.decimals
        if value < 0:
            raise forms.ValidationError("Enter an amount of 0 or more.")
        if value > MAX_BALANCE:
            limit = format_money(MAX_BALANCE, decimals, self.currency, bound=True)
            raise forms.ValidationError(f"Enter at most {limit}.")
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > decimals:
            if decimals == 0:
                raise forms.ValidationError("Enter a whole amount (no decimals).")
            raise forms.ValidationError(f"Use at most {decimals} decimals.")
        return value

    def clean_disconnect_sound(self) -> str:
        name = self.cleaned_data["disconnect_sound"].strip()
        if not SOUND_NAME_RE.match(name) or ".." in name:
            raise forms.ValidationError(
                "Use a sound file name of letters, digits, _ . - and /, without “..”."
            )
        return name

    def _normalized(self, field: str, missing: str) -> str:
        raw = self.cleaned_data.get(field, "")
        if not raw.strip():
            self.add_error(field, missing)
            return ""
        try:
            return normalize_number(raw, self.preferences.default_country or None)
        except InvalidNumber as exc:
            self.add_error(field, str(exc))
            return ""

    def clean(self):
        data = super().clean()
        # Whatever the browser sends, a number belonging to another mode is dropped.
        if data.get("return_mode") == ReturnMode.FIXED:
            data["fixed_number"] = self._normalized(
                "fixed_number", "Enter the number where calls should be returned."
            )
        else:
            data["fixed_number"] = ""
        if data.get("outbound_callerid_mode") == OutboundCallerIDMode.USER:
            data["outbound_callerid"] = self._normalized(
                "outbound_callerid", "Enter the CallerID number for public calls."
            )
        else:
            data["outbound_callerid"] = ""
        return data

    def setup(self) -> ExtensionSetup:
        data = self.cleaned_data
        return ExtensionSetup(
            number=data["number"],
            name=data["name"].strip(),
            active=data["active"],
            trigger_after_seconds=data["trigger_after_seconds"],
            return_mode=data["return_mode"],
            fixed_number=data["fixed_number"],
            disconnect_sound=data["disconnect_sound"],
            min_credit=data["min_credit"],
            pin_lock_limit=data["pin_lock_limit"],
            dial_timeout_seconds=data["dial_timeout_seconds"],
            outbound_callerid_mode=data["outbound_callerid_mode"],
            outbound_callerid=data["outbound_callerid"],
            max_call_duration_seconds=data["max_call_duration_seconds"],
            max_calls_per_callerid=data["max_calls_per_callerid"],
            max_calls=data["max_calls"],
            daily_limit=data["daily_limit"],
        )
