"""Reads of the notification settings."""

from __future__ import annotations

import time
from decimal import Decimal

from django.db.models.signals import post_save

from notifications.models import ChannelSettings
from tenancy.models import Reseller

THRESHOLD_CACHE_SECONDS = 5.0
_thresholds: tuple[float, dict[int | None, Decimal]] | None = None


def server_settings() -> ChannelSettings:
    """The server's channel row (made the first time it is asked for)."""
    row = ChannelSettings.objects.filter(reseller__isnull=True).order_by("pk").first()
    return row or ChannelSettings.objects.create(reseller=None)


def settings_for(reseller: Reseller | None) -> ChannelSettings:
    if reseller is None:
        return server_settings()
    row, _created = ChannelSettings.objects.get_or_create(reseller=reseller)
    return row


def _all_thresholds() -> dict[int | None, Decimal]:
    """Every threshold set, by reseller id (None: the server's), read at most every 5 s
    per process: calls on the PBX's hot path must not pay a query for it."""
    global _thresholds
    now = time.monotonic()
    cached = _thresholds
    if cached is not None and cached[0] > now and THRESHOLD_CACHE_SECONDS:
        return cached[1]
    rows = ChannelSettings.objects.filter(low_credit_threshold__isnull=False).values_list(
        "reseller_id", "low_credit_threshold"
    )
    values = dict(rows)
    _thresholds = (now + THRESHOLD_CACHE_SECONDS, values)
    return values


def forget_thresholds(**_kwargs) -> None:
    global _thresholds
    _thresholds = None


post_save.connect(forget_thresholds, sender=ChannelSettings)


def threshold_for(reseller_id: int | None) -> Decimal | None:
    values = _all_thresholds()
    value = values.get(reseller_id)
    return value if value is not None else values.get(None)
