"""The search of the authorized CallerIDs list (SPEC §4), shared by the page and its exports.

Give it a queryset that is already scoped (tenancy.callerids_for(user), narrowed
to one extension for the page); it never widens what it is given.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import F, Q

from callerids.models import CallerIDStatus

CREDIT_UNLIMITED = "unlimited"
CREDIT_HAS_CREDIT = "has_credit"
CREDIT_NO_CREDIT = "no_credit"
CREDIT_CHOICES = [
    (CREDIT_UNLIMITED, "Unlimited"),
    (CREDIT_HAS_CREDIT, "Has credit"),
    (CREDIT_NO_CREDIT, "No credit left"),
]

# Sort keys (the table's own): key -> ORDER BY. Unlimited sorts above every amount.
SORTS = {
    "number": [F("number").asc(), F("id").asc()],
    "-number": [F("number").desc(), F("id").desc()],
    "created": [F("created_at").asc(), F("id").asc()],
    "-created": [F("created_at").desc(), F("id").desc()],
    "total": [F("total").asc(nulls_last=True), F("id").asc()],
    "-total": [F("total").desc(nulls_first=True), F("id").desc()],
    "available": [F("available").asc(nulls_last=True), F("id").asc()],
    "-available": [F("available").desc(nulls_first=True), F("id").desc()],
}
DEFAULT_SORT = "-created"
SORT_CHOICES = [(key, key) for key in SORTS]

# What people type around digits; the stored number has none of it.
_NUMBER_PUNCTUATION = re.compile(r"[\s\-().\/]")


def no_credit_q() -> Q:
    """Limited and nothing to spend: available <= 0 or below the extension's minimum credit.

    The predicate the PBX API answers `no_credit` with (SPEC §9).
    """
    return Q(unlimited=False) & (Q(available__lte=0) | Q(available__lt=F("extension__min_credit")))


def has_credit_q() -> Q:
    """Limited with credit to spend: the complement of no_credit_q() among limited ones."""
    return Q(unlimited=False) & Q(available__gt=0) & Q(available__gte=F("extension__min_credit"))


class CallerIDFilter(django_filters.FilterSet):
    """q (any part of the number), status (default: not removed), credit state, sort.

    Always bound: with no data the defaults apply (not removed, newest first).
    """

    q = django_filters.CharFilter(
        label="Search",
        method="search_number",
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": "Any part of the number", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=CallerIDStatus.choices,
        empty_label="Enabled and disabled",
        method="filter_status",
    )
    credit = django_filters.ChoiceFilter(
        label="Credit", choices=CREDIT_CHOICES, empty_label="Any credit", method="filter_credit"
    )
    sort = django_filters.ChoiceFilter(
        label="Sort", choices=SORT_CHOICES, method="sort_rows", widget=forms.HiddenInput
    )

    class Meta:
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data=data if data is not None else {}, queryset=queryset, **kwargs)

    def search_number(self, queryset, name, value):
        digits = _NUMBER_PUNCTUATION.sub("", value)
        # LIKE '%…%' (numbers have no letters, so no UPPER()): on PostgreSQL the trigram
        # index of migration 0004 serves it; SQLite scans.
        return queryset.filter(number__contains=digits) if digits else queryset

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value)

    def filter_credit(self, queryset, name, value):
        if value == CREDIT_UNLIMITED:
            return queryset.filter(unlimited=True)
        if value == CREDIT_HAS_CREDIT:
            return queryset.filter(has_credit_q())
        return queryset.filter(no_credit_q())

    def sort_rows(self, queryset, name, value):
        return queryset  # ordering is applied once, in filter_queryset, default included

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("status"):
            queryset = queryset.exclude(status=CallerIDStatus.REMOVED)
        return queryset.order_by(*SORTS[data.get("sort") or DEFAULT_SORT])
