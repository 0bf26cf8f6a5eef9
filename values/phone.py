"""Phone-number normalization (SPEC §5.4), shared by every form, import and the PBX API."""

import re
import unicodedata

import phonenumbers

# The countries phone numbers know (the Charging page's default country is one of them).
COUNTRY_CODES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


class InvalidNumber(ValueError):
    """The text is not a callback number we can store; str(exc) says why."""


_REMOVED_PUNCTUATION = frozenset("./()")
_STORED_RE = re.compile(r"^\+?[0-9]{3,15}$")


def _removed(ch: str) -> bool:
    if ch in _REMOVED_PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    # Every Unicode space, tab, no-break space; every Unicode dash.
    return ch.isspace() or category == "Zs" or category == "Pd"


# The same rule for ASCII text as one str.translate (an import normalizes 100,000 numbers).
_ASCII_REMOVED = {ord(ch): None for ch in map(chr, range(128)) if _removed(ch)}


def _strip(raw: str) -> str:
    if raw.isascii():
        return raw.translate(_ASCII_REMOVED)
    return "".join(ch for ch in raw if not _removed(ch))


def normalize_number(raw: str | None, default_country: str | None = None) -> str:
    """Return the stored form of a callback number, or raise InvalidNumber with the reason."""
    text = _strip(raw or "")
    if not text:
        raise InvalidNumber("Enter a phone number.")
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = text[1:] if text.startswith("+") else text
    if not digits.isascii() or not digits.isdigit():
        raise InvalidNumber("Use only digits, spaces, dashes, dots, brackets and a leading +.")
    if text.startswith("+"):
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise InvalidNumber(f"{raw.strip()} is not a possible international number.") from None
        # Strictly possible: IS_POSSIBLE_LOCAL_ONLY (a number without its area code) is refused.
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
            raise InvalidNumber(f"{raw.strip()} is not a possible international number.")
        stored = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    else:
        stored = digits
        if default_country:
            try:
                parsed = phonenumbers.parse(digits, default_country.upper())
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is not None and phonenumbers.is_valid_number_for_region(
                parsed, default_country.upper()
            ):
                stored = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _STORED_RE.match(stored):
        raise InvalidNumber("A callback number has 3 to 15 digits.")
    return stored


def is_stored_number(value: str) -> bool:
    """True for a value in the stored shape (what exports write as a plain phone number)."""
    return bool(_STORED_RE.match(value or ""))
