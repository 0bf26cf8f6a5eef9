"""Form fields shared by every panel form that reads a typed number (and the rule behind
them, for the management commands' arguments)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

WHOLE_NUMBER_MESSAGE = "Enter a whole number with the digits 0 to 9."
# At most 18 digits: every whole number of the panel is far smaller, and int() of a huge
# text is slow (and refused past 4,300 digits).
_WHOLE_NUMBER_RE = re.compile(r"[+-]?[0-9]{1,18}")


def whole_number(text: str) -> int:
    """The int of a whole number written with ASCII digits; ValueError otherwise.

    int() alone reads the digits of every script ("١" is 1): this is the panel's one rule.
    """
    text = str(text).strip()
    if not _WHOLE_NUMBER_RE.fullmatch(text):
        raise ValueError(WHOLE_NUMBER_MESSAGE)
    return int(text)


class WholeNumberField(forms.IntegerField):
    """An IntegerField that reads ASCII digits only, like the money fields.

    Django's IntegerField calls int(), which reads the digits of every script: "١"
    (Arabic-Indic one) or "５" (fullwidth five) would be saved as 1 or 5 (issue 16). Every
    whole-number field of the panel (license, reseller share, extension settings) is this one.
    """

    default_error_messages = {"invalid": WHOLE_NUMBER_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.NumberInput(attrs={"inputmode": "numeric"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return whole_number(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
