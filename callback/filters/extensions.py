"""Search and filters of the callback extensions list; they live in the URL (bookmarkable)."""

import django_filters
from django.db.models import Q

from callback.models import CallbackExtension, ReturnMode
from tenancy import scoping


def _organizations(request):
    return scoping.organizations_for(request.user) if request is not None else None


class ExtensionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="search", help_text="Number, name, organization or reseller."
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=_organizations, empty_label="All organizations"
    )
    return_mode = django_filters.ChoiceFilter(
        label="Return calls", choices=ReturnMode.choices, empty_label="All modes"
    )
    active = django_filters.ChoiceFilter(
        label="Status",
        choices=[("yes", "Active"), ("no", "Inactive")],
        empty_label="Active and inactive",
        method="by_active",
    )

    class Meta:
        model = CallbackExtension
        fields = ["q", "organization", "return_mode", "active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(name__icontains=value)
            | Q(organization__name__icontains=value)
            | Q(organization__reseller__name__icontains=value)
        )

    def by_active(self, queryset, name, value):
        return queryset.filter(active=value == "yes")
