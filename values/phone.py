"""Phone-number normalization (SPEC §5.4), shared by every form, import and the PBX API."""

import re
import unicodedata
from functools import cache

import phonenumbers
from phonenumbers import phonenumberutil as _libphonenumber  # parse's own steps (below)

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


@cache
def _national_prefix_rule(country_code: int) -> re.Pattern | None | bool:
    """How a country's numbers may start with a national prefix that parsing would strip
    (libphonenumber's `national_prefix_for_parsing`, matched at the start), None when the
    country has none, False when libphonenumber has no metadata for the code."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return False
    rule = metadata.national_prefix_for_parsing
    return re.compile(rule) if rule else None


# Whether a national number of a length is possible in a country: libphonenumber's
# is_possible_number looks only at the length against the country's possible lengths, so
# one answer serves every number of that country and length (a few thousand pairs at most).
_POSSIBLE: dict[tuple[int, int], bool] = {}


def _plain_international(digits: str) -> bool | None:
    """For "+<digits>", whether it is a possible number when libphonenumber would store it
    exactly as written, or None when it might not (then libphonenumber is asked).

    What parsing "+<digits>" does, for the numbers it leaves as written: it takes the
    country code (the first 1 to 3 digits that are one), keeps the rest as the national
    number unless the country's national prefix can be stripped from its start, and
    formats E.164 as "+", the code and the national number again. So when the code is
    known, the rest has 2 to 17 digits and does not start with what could be a national
    prefix, the stored form is the text itself and only its possibility is left to know.
    An import normalizes 100,000 numbers: this is about six times quicker than parsing.
    tests/values/test_phone_fast_path.py compares the two ways over every country code.
    """
    if len(digits) < 3 or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if not 2 <= len(national) <= 17:
        return None
    rule = _national_prefix_rule(country_code)
    if rule is False or (rule is not None and rule.match(national)):
        return None
    key = (country_code, len(national))
    possible = _POSSIBLE.get(key)
    if possible is None:
        parsed = phonenumbers.parse("+" + digits, None)
        possible = _POSSIBLE[key] = (
            phonenumbers.is_possible_number_with_reason(parsed)
            == phonenumbers.ValidationResult.IS_POSSIBLE
        )
    return possible


@cache
def _region_rules(region: str):
    """(metadata, its international dialling prefix as a pattern or None, its country
    code as text) of a region, or None when libphonenumber does not know it."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    idd = metadata.international_prefix
    return metadata, (re.compile(idd) if idd else None), str(metadata.country_code)


_KEPT_WHOLE = (
    phonenumbers.ValidationResult.TOO_SHORT,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    phonenumbers.ValidationResult.INVALID_LENGTH,
)


def _plain_national(digits: str, region: str) -> phonenumbers.PhoneNumber | None:
    """What `phonenumbers.parse(digits, region)` gives for a number written in national
    form, made with parse's own steps, or None when parse might do something else (then
    parse itself is asked).

    For ASCII digits that do not start with the region's international dialling prefix
    nor with its country code, parse's work is: strip the national prefix (and carrier
    code) when what is left still has a length the region allows, keep 2 to 17 digits, and
    note the leading zeros. Those steps are libphonenumber's own functions, called here
    without the text handling around them (Unicode digits, extensions, RFC 3966), which
    digits alone never need: about three times quicker. tests/values/test_phone_fast_path.py
    compares the two ways for every region (phonenumbers is pinned: these functions are
    not its public API).
    """
    rules = _region_rules(region)
    if rules is None or len(digits) < 2:
        return None
    metadata, idd, country_code = rules
    if (idd is not None and idd.match(digits)) or digits.startswith(country_code):
        return None
    national = digits
    _, stripped, _ = _libphonenumber._maybe_strip_national_prefix_carrier_code(digits, metadata)
    if _libphonenumber._test_number_length(stripped, metadata) not in _KEPT_WHOLE:
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    number = phonenumbers.PhoneNumber(
        country_code=metadata.country_code, national_number=int(national)
    )
    _libphonenumber._set_italian_leading_zeros_for_phone_number(national, number)
    return number


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
    plain = _plain_international(digits) if text.startswith("+") else None
    if plain is not None:
        if not plain:
            raise InvalidNumber(f"{raw.strip()} is not a possible international number.")
        stored = text
    elif text.startswith("+"):
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
            parsed = _plain_national(digits, default_country.upper())
            if parsed is None:
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
