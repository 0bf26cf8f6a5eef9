"""Search and filter forms of the tenancy and audit lists (django-filter)."""

from __future__ import annotations

import datetime

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from tenancy import scoping
from tenancy.models import AuditEvent, Organization, Reseller, Role
from values.dates import DayFilter

ACTIVE_CHOICES = [("true", "Active"), ("false", "Inactive")]


def _active_filter(field_name: str = "active"):
    def by_status(queryset, name, value):
        return queryset.filter(**{field_name: value == "true"})

    return django_filters.ChoiceFilter(
        choices=ACTIVE_CHOICES,
        method=by_status,
        empty_label="Active and inactive",
        label="Status",
    )


class ResellerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    active = _active_filter()

    class Meta:
        model = Reseller
        fields = ["q", "active"]


def _visible_resellers(request):
    # Only resellers the user may see: the drop-down never names another reseller.
    return scoping.resellers_for(request.user) if request else Reseller.objects.none()


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    reseller = django_filters.ModelChoiceFilter(
        queryset=_visible_resellers, empty_label="All resellers"
    )
    active = _active_filter()

    class Meta:
        model = Organization
        fields = ["q", "reseller", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(reseller__name__icontains=value))


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    role = django_filters.ChoiceFilter(
        field_name="profile__role", choices=Role.choices, empty_label="All roles"
    )
    reseller = django_filters.ModelChoiceFilter(
        field_name="profile__reseller", queryset=_visible_resellers, empty_label="Any binding"
    )
    active = _active_filter("is_active")

    class Meta:
        model = get_user_model()
        fields = ["q", "role", "reseller", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value))


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the server's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="icontains", label="Who"
    )
    action = django_filters.CharFilter(lookup_expr="icontains", label="Action")
    object = django_filters.CharFilter(method="search_object", label="Object")
    # Whole days in the server's time zone, as ranges on created_at itself (its index
    # serves them; a cast to a date would not).
    date_from = DayFilter(method="filter_date_from", label="From")
    date_to = DayFilter(method="filter_date_to", label="To")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object", "date_from", "date_to"]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + datetime.timedelta(days=1)))

    def search_object(self, queryset, name, value):
        return queryset.filter(
            Q(object_repr__icontains=value) | Q(object_type__icontains=value) | Q(object_id=value)
        )
