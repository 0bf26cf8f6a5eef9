"""Reads for CallerIDs and the license."""

from django.conf import settings
from django.db import IntegrityError, transaction

from callerids.models import License


def get_license() -> License:
    """The license row; created from LICENSE_MAX_ACTIVE_CALLERIDS the first time only."""
    try:
        return License.objects.get(pk=1)
    except License.DoesNotExist:
        try:
            with transaction.atomic():
                return License.objects.create(
                    pk=1, max_active_callerids=settings.LICENSE_MAX_ACTIVE_CALLERIDS
                )
        except IntegrityError:
            return License.objects.get(pk=1)


def lock_license() -> License:
    """The license row, locked until the end of the caller's transaction."""
    get_license()
    return License.objects.select_for_update().get(pk=1)
