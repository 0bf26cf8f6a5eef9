"""The search of a CallerID's recharge history (SPEC §6), shared by the page and its export.

Give it a queryset that is already scoped (one CallerID the user may see).
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from values.dates import DayFilter
from values.money import ORDER_NUMBER_MAX


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the server time zone (settings.TIME_ZONE), as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class RechargeHistoryForm(forms.Form):
    def __init__(self, *args, **kwargs):
        # Its own ids: the Add credit form on the same page has an order_number field too,
        # and a label must focus its own field.
        kwargs.setdefault("auto_id", "id_history_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("The start date must be on or before the end date.")
        return data


class RechargeHistoryFilter(django_filters.FilterSet):
    """Order number (contains, any case) and a date range of whole days, both ends included,
    in the server time zone."""

    order_number = django_filters.CharFilter(
        label="Order number",
        field_name="order_number",
        lookup_expr="icontains",
        max_length=ORDER_NUMBER_MAX,
    )
    # DayFilter refuses a date near the calendar's ends: filter_to adds a day to it.
    date_from = DayFilter(label="From", method="filter_from")
    date_to = DayFilter(label="To", method="filter_to")

    class Meta:
        fields: list[str] = []
        form = RechargeHistoryForm

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data=data if data is not None else {}, queryset=queryset, **kwargs)

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + datetime.timedelta(days=1)))
