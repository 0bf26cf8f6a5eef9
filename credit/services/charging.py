"""The charging preferences admins change: currency, decimals shown, default country.

A single row (pk=1): the service locks it first, writes, and records an audit event in the
same transaction.
"""

from __future__ import annotations

from django.db import transaction

from credit.selectors import credit_ever_granted
from tenancy.audit import Actor, record, snapshot
from tenancy.models import ChargingPreferences
from tenancy.preferences import get_preferences
from values.currencies import ISO_4217_CURRENCIES
from values.errors import DomainError
from values.phone import COUNTRY_CODES

CHARGING_FIELDS = ["currency", "decimals", "default_country"]


def update_charging_preferences(
    *, actor: Actor, currency: str, decimals: int, default_country: str = ""
):
    """Set the currency, decimals shown and default country for phone numbers.

    Raises DomainError for a code not in ISO 4217 / not a supported country, decimals
    outside 0–4, or a currency change once any credit was granted (amounts already in
    the ledger would silently change meaning).
    """

    currency = (currency or "").strip().upper()
    default_country = (default_country or "").strip().upper()
    if currency not in ISO_4217_CURRENCIES:
        raise DomainError({"currency": f'"{currency}" is not an active ISO 4217 currency code.'})
    if decimals is None or not 0 <= decimals <= 4:
        raise DomainError({"decimals": "Decimals shown must be between 0 and 4."})
    if default_country and default_country not in COUNTRY_CODES:
        raise DomainError(
            {"default_country": f'"{default_country}" is not a country code phone numbers know.'}
        )
    get_preferences()
    with transaction.atomic():
        # Locked so the "no credit granted yet" check and the currency change are one step.
        preferences = ChargingPreferences.objects.select_for_update().get(pk=1)
        before = snapshot(preferences, CHARGING_FIELDS)
        if currency != preferences.currency and credit_ever_granted():
            raise DomainError(
                {
                    "currency": f"The currency stays {preferences.currency}: credit has already "
                    "been granted in it, and changing it would change what every balance means."
                }
            )
        preferences.currency = currency
        preferences.decimals = decimals
        preferences.default_country = default_country
        preferences.save(update_fields=[*CHARGING_FIELDS, "updated_at"])
        after = snapshot(preferences, CHARGING_FIELDS)
        if after != before:
            record(
                actor=actor,
                action="charging_preferences.update",
                obj=preferences,
                before=before,
                after=after,
            )
    return preferences
