"""Reads for credit: the charging preferences."""

import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.urls import reverse

from tenancy.models import ChargingPreferences


def get_preferences() -> ChargingPreferences:
    """The charging preferences row, created with DEFAULT_CURRENCY the first time."""
    try:
        return ChargingPreferences.objects.get(pk=1)
    except ChargingPreferences.DoesNotExist:
        try:
            with transaction.atomic():
                return ChargingPreferences.objects.create(pk=1, currency=settings.DEFAULT_CURRENCY)
        except IntegrityError:
            return ChargingPreferences.objects.get(pk=1)


def default_country_notice(preferences: ChargingPreferences, *, may_set_it: bool) -> dict:
    """Context for credit/templates/includes/default_country_warning.html: while no default
    country is set, numbers typed without + are stored as typed (SPEC §5.4), so the pages
    that take numbers warn, and point who may change it (admins) to the Charging page."""
    return {
        "country_missing": not preferences.default_country,
        "charging_url": reverse("credit:charging") if may_set_it else "",
    }


# The PBX API reads the currency and the default country on every request; a change is
# rare, so each process keeps the row for a few seconds instead of asking every time.
PREFERENCES_CACHE_SECONDS = 5.0
_cached_preferences: tuple[float, ChargingPreferences] | None = None


def get_preferences_cached() -> ChargingPreferences:
    """get_preferences(), kept per process for PREFERENCES_CACHE_SECONDS (read-only).

    A change saved in this process is seen at once (the save forgets the copy); one saved
    by another process (another gunicorn worker, another machine) within that time. For
    hot read paths only (the PBX API, the CallerIDs list's display); services and forms
    use get_preferences().
    """
    global _cached_preferences
    now = time.monotonic()
    cached = _cached_preferences
    if cached is not None and cached[0] > now:
        return cached[1]
    preferences = get_preferences()
    _cached_preferences = (now + PREFERENCES_CACHE_SECONDS, preferences)
    return preferences


def forget_cached_preferences(**_kwargs) -> None:
    """Drop this process's copy (after a save, a delete, or a flush of the database)."""
    global _cached_preferences
    _cached_preferences = None


post_save.connect(forget_cached_preferences, sender=ChargingPreferences, dispatch_uid="cbm_prefs")
post_delete.connect(
    forget_cached_preferences, sender=ChargingPreferences, dispatch_uid="cbm_prefs_delete"
)
post_migrate.connect(forget_cached_preferences, dispatch_uid="cbm_prefs_migrate")
