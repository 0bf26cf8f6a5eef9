"""Destination rules (SPEC §11): where a call may go. Framework-free apart from reading
phonenumbers' metadata, so the PBX's hot path (credit.services.holds) and the rules page
use the same judgement.

A call must pass the server's rules and its reseller's; the first reason that applies, in
the SPEC's order, wins: destination_blocked (a blocked prefix, or a country not allowed),
premium_rate (premium-rate or shared-cost number, by phonenumbers' number type),
rate_too_high (the rate per minute above the maximum).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers

DESTINATION_BLOCKED = "destination_blocked"
PREMIUM_RATE = "premium_rate"
RATE_TOO_HIGH = "rate_too_high"

PREFIX_RE = re.compile(r"^\+[0-9]{1,15}$")
PREMIUM_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST}
)
_SEPARATORS = re.compile(r"[\s\-./()]")


@dataclass(frozen=True, slots=True)
class Rules:
    """One set of rules (the server's, or a reseller's) as the hot path reads it."""

    blocked_prefixes: tuple[str, ...] = ()
    allowed_countries: frozenset[str] = field(default_factory=frozenset)
    refuse_premium: bool = True
    max_rate_per_minute: Decimal | None = None


# No row yet: the defaults of a new row (premium-rate refused, everything else open).
DEFAULT_RULES = Rules()


def _json_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


def rules_from_row(blocked, allowed, refuse_premium, max_rate) -> Rules:
    """Rules from the columns of a DestinationRules row read by a raw query (None = no row)."""
    if refuse_premium is None:
        return DEFAULT_RULES
    return Rules(
        blocked_prefixes=tuple(_json_list(blocked)),
        allowed_countries=frozenset(code.upper() for code in _json_list(allowed)),
        refuse_premium=bool(refuse_premium),
        max_rate_per_minute=max_rate,
    )


@dataclass(frozen=True, slots=True)
class Destination:
    """A dialled number as the rules see it: its E.164 text (or the digits as dialled,
    when it does not parse), its country and whether it is premium-rate or shared-cost."""

    text: str
    country: str | None
    premium: bool


def read_destination(raw: str, default_country: str | None) -> Destination:
    """Parse what the PBX dialled: `+…` or `00…` as international, anything else in the
    default country. A number that does not parse keeps its digits and has no country."""
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        region = None if text.startswith("+") else (default_country or "").upper() or None
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Destination(text=text, country=None, premium=False)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    country = phonenumbers.region_code_for_number(parsed)
    premium = phonenumbers.number_type(parsed) in PREMIUM_TYPES
    return Destination(text=e164, country=country, premium=premium)


def denial(
    destination: Destination, rate_per_minute: Decimal, rule_sets: Iterable[Rules]
) -> str | None:
    """The first reason the rules refuse this call, or None when every set allows it."""
    rule_sets = tuple(rule_sets)
    for rules in rule_sets:
        if any(destination.text.startswith(prefix) for prefix in rules.blocked_prefixes):
            return DESTINATION_BLOCKED
        if rules.allowed_countries and destination.country not in rules.allowed_countries:
            return DESTINATION_BLOCKED
    if destination.premium and any(rules.refuse_premium for rules in rule_sets):
        return PREMIUM_RATE
    for rules in rule_sets:
        limit = rules.max_rate_per_minute
        if limit is not None and rate_per_minute > limit:
            return RATE_TOO_HIGH
    return None


def clean_prefixes(text: str) -> list[str]:
    """The blocked prefixes typed one per line (or separated by commas/spaces): each
    becomes `+` and digits ("00882" and "882" both mean +882); ValueError names a bad one."""
    prefixes: list[str] = []
    for item in re.split(r"[\s,;]+", text or ""):
        if not item:
            continue
        value = item[2:] if item.startswith("00") else item.lstrip("+")
        value = "+" + value
        if not PREFIX_RE.match(value):
            raise ValueError(f"{item} is not a prefix: use + and 1 to 15 digits, e.g. +882.")
        if value not in prefixes:
            prefixes.append(value)
    return prefixes


def clean_countries(text: str) -> list[str]:
    """ISO 3166-1 alpha-2 codes that phonenumbers knows, upper case, in the order typed."""
    known = phonenumbers.SUPPORTED_REGIONS
    countries: list[str] = []
    for item in re.split(r"[\s,;]+", text or ""):
        if not item:
            continue
        code = item.upper()
        if code not in known:
            raise ValueError(f"{item} is not a country code: use ISO codes such as RO, DE, FR.")
        if code not in countries:
            countries.append(code)
    return countries
