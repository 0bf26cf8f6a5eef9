"""Dates a user types into a search: one range every date filter and form accepts.

Every date filter checks this range while it validates, before any date arithmetic (the day
after, the month's end, the conversion from the server time zone to UTC), so a date at the
calendar's ends (0001-01-01, 9999-12-31) is a form error on a page and a 400 on an export,
never an OverflowError.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError

EARLIEST = dt.date(1970, 1, 1)
LATEST = dt.date(9998, 12, 31)
OUT_OF_RANGE = f"Choose a date between {EARLIEST} and {LATEST}."


def check_day(value: dt.date | None) -> None:
    """Refuse a day outside EARLIEST..LATEST (None, an empty field, passes)."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationError(OUT_OF_RANGE, code="date_range")


class DayField(forms.DateField):
    """A date (YYYY-MM-DD by default) inside the range a search accepts."""

    default_validators = [check_day]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)


class DayFilter(django_filters.DateFilter):
    """django-filter's DateFilter with the range check of DayField."""

    field_class = DayField
