"""Server settings admins change: the license maximum and the charging preferences.

Both rows are single rows (pk=1); each service locks its row first, writes, and records
an audit event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.db import transaction

from callback import selectors
from callback.audit import Actor, record, snapshot
from callback.errors import DomainError

# Active ISO 4217 currency codes (list one, 2025) usable for billing; funds codes, precious
# metals, bond-market units and the testing/"no currency" codes are left out.
ISO_4217_CURRENCIES: dict[str, str] = {
    "AED": "UAE Dirham",
    "AFN": "Afghani",
    "ALL": "Lek",
    "AMD": "Armenian Dram",
    "AOA": "Kwanza",
    "ARS": "Argentine Peso",
    "AUD": "Australian Dollar",
    "AWG": "Aruban Florin",
    "AZN": "Azerbaijan Manat",
    "BAM": "Convertible Mark",
    "BBD": "Barbados Dollar",
    "BDT": "Taka",
    "BGN": "Bulgarian Lev",
    "BHD": "Bahraini Dinar",
    "BIF": "Burundi Franc",
    "BMD": "Bermudian Dollar",
    "BND": "Brunei Dollar",
    "BOB": "Boliviano",
    "BRL": "Brazilian Real",
    "BSD": "Bahamian Dollar",
    "BTN": "Ngultrum",
    "BWP": "Pula",
    "BYN": "Belarusian Ruble",
    "BZD": "Belize Dollar",
    "CAD": "Canadian Dollar",
    "CDF": "Congolese Franc",
    "CHF": "Swiss Franc",
    "CLP": "Chilean Peso",
    "CNY": "Yuan Renminbi",
    "COP": "Colombian Peso",
    "CRC": "Costa Rican Colon",
    "CUP": "Cuban Peso",
    "CVE": "Cabo Verde Escudo",
    "CZK": "Czech Koruna",
    "DJF": "Djibouti Franc",
    "DKK": "Danish Krone",
    "DOP": "Dominican Peso",
    "DZD": "Algerian Dinar",
    "EGP": "Egyptian Pound",
    "ERN": "Nakfa",
    "ETB": "Ethiopian Birr",
    "EUR": "Euro",
    "FJD": "Fiji Dollar",
    "FKP": "Falkland Islands Pound",
    "GBP": "Pound Sterling",
    "GEL": "Lari",
    "GHS": "Ghana Cedi",
    "GIP": "Gibraltar Pound",
    "GMD": "Dalasi",
    "GNF": "Guinean Franc",
    "GTQ": "Quetzal",
    "GYD": "Guyana Dollar",
    "HKD": "Hong Kong Dollar",
    "HNL": "Lempira",
    "HTG": "Gourde",
    "HUF": "Forint",
    "IDR": "Rupiah",
    "ILS": "New Israeli Sheqel",
    "INR": "Indian Rupee",
    "IQD": "Iraqi Dinar",
    "IRR": "Iranian Rial",
    "ISK": "Iceland Krona",
    "JMD": "Jamaican Dollar",
    "JOD": "Jordanian Dinar",
    "JPY": "Yen",
    "KES": "Kenyan Shilling",
    "KGS": "Som",
    "KHR": "Riel",
    "KMF": "Comorian Franc",
    "KPW": "North Korean Won",
    "KRW": "Won",
    "KWD": "Kuwaiti Dinar",
    "KYD": "Cayman Islands Dollar",
    "KZT": "Tenge",
    "LAK": "Lao Kip",
    "LBP": "Lebanese Pound",
    "LKR": "Sri Lanka Rupee",
    "LRD": "Liberian Dollar",
    "LSL": "Loti",
    "LYD": "Libyan Dinar",
    "MAD": "Moroccan Dirham",
    "MDL": "Moldovan Leu",
    "MGA": "Malagasy Ariary",
    "MKD": "Denar",
    "MMK": "Kyat",
    "MNT": "Tugrik",
    "MOP": "Pataca",
    "MRU": "Ouguiya",
    "MUR": "Mauritius Rupee",
    "MVR": "Rufiyaa",
    "MWK": "Malawi Kwacha",
    "MXN": "Mexican Peso",
    "MYR": "Malaysian Ringgit",
    "MZN": "Mozambique Metical",
    "NAD": "Namibia Dollar",
    "NGN": "Naira",
    "NIO": "Cordoba Oro",
    "NOK": "Norwegian Krone",
    "NPR": "Nepalese Rupee",
    "NZD": "New Zealand Dollar",
    "OMR": "Rial Omani",
    "PAB": "Balboa",
    "PEN": "Sol",
    "PGK": "Kina",
    "PHP": "Philippine Peso",
    "PKR": "Pakistan Rupee",
    "PLN": "Zloty",
    "PYG": "Guarani",
    "QAR": "Qatari Rial",
    "RON": "Romanian Leu",
    "RSD": "Serbian Dinar",
    "RUB": "Russian Ruble",
    "RWF": "Rwanda Franc",
    "SAR": "Saudi Riyal",
    "SBD": "Solomon Islands Dollar",
    "SCR": "Seychelles Rupee",
    "SDG": "Sudanese Pound",
    "SEK": "Swedish Krona",
    "SGD": "Singapore Dollar",
    "SHP": "Saint Helena Pound",
    "SLE": "Leone",
    "SOS": "Somali Shilling",
    "SRD": "Surinam Dollar",
    "SSP": "South Sudanese Pound",
    "STN": "Dobra",
    "SVC": "El Salvador Colon",
    "SYP": "Syrian Pound",
    "SZL": "Lilangeni",
    "THB": "Baht",
    "TJS": "Somoni",
    "TMT": "Turkmenistan New Manat",
    "TND": "Tunisian Dinar",
    "TOP": "Pa'anga",
    "TRY": "Turkish Lira",
    "TTD": "Trinidad and Tobago Dollar",
    "TWD": "New Taiwan Dollar",
    "TZS": "Tanzanian Shilling",
    "UAH": "Hryvnia",
    "UGX": "Uganda Shilling",
    "USD": "US Dollar",
    "UYU": "Peso Uruguayo",
    "UZS": "Uzbekistan Sum",
    "VED": "Bolivar Soberano (digital)",
    "VES": "Bolivar Soberano",
    "VND": "Dong",
    "VUV": "Vatu",
    "WST": "Tala",
    "XAF": "CFA Franc BEAC",
    "XCD": "East Caribbean Dollar",
    "XCG": "Caribbean Guilder",
    "XOF": "CFA Franc BCEAO",
    "XPF": "CFP Franc",
    "YER": "Yemeni Rial",
    "ZAR": "Rand",
    "ZMW": "Zambian Kwacha",
    "ZWG": "Zimbabwe Gold",
}

COUNTRY_CODES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)
LICENSE_FIELDS = ["max_active_callerids"]
CHARGING_FIELDS = ["currency", "decimals", "default_country"]
MAX_LICENSE = 10_000_000


@dataclass(frozen=True)
class LicenseUpdate:
    license: object
    below_active_count: bool  # the new maximum is under the CallerIDs already enabled


def update_license(*, actor: Actor, max_active_callerids: int) -> LicenseUpdate:
    """Set the maximum of active authorized CallerIDs on the server.

    Lowering it below the active count is allowed: the CallerIDs already enabled stay
    enabled, only new activations are refused (the result says so). Raises DomainError
    for a negative or absurd value.
    """
    from callerids.selectors import lock_license

    if max_active_callerids is None or not 0 <= max_active_callerids <= MAX_LICENSE:
        raise DomainError(
            {"max_active_callerids": f"Enter a maximum between 0 and {MAX_LICENSE:,}."}
        )
    with transaction.atomic():
        # The counter on this row moves with every CallerID status change: lock it so the
        # maximum and the count we compare it with are the ones committed together.
        license = lock_license()
        before = snapshot(license, LICENSE_FIELDS)
        license.max_active_callerids = max_active_callerids
        license.save(update_fields=["max_active_callerids", "updated_at"])
        after = snapshot(license, LICENSE_FIELDS)
        if after != before:
            record(actor=actor, action="license.update", obj=license, before=before, after=after)
    return LicenseUpdate(
        license=license, below_active_count=max_active_callerids < license.active_callerids
    )


def update_charging_preferences(
    *, actor: Actor, currency: str, decimals: int, default_country: str = ""
):
    """Set the currency, decimals shown and default country for phone numbers.

    Raises DomainError for a code not in ISO 4217 / not a supported country, decimals
    outside 0–4, or a currency change once any credit was granted (amounts already in
    the ledger would silently change meaning).
    """
    from credit.models import ChargingPreferences
    from credit.selectors import get_preferences

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
        if currency != preferences.currency and selectors.credit_ever_granted():
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
