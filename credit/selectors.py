"""Reads for credit: the charging preferences."""

from django.conf import settings
from django.db import IntegrityError, transaction

from credit.models import ChargingPreferences


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
