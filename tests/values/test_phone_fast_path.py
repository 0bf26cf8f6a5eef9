"""values.phone's two shortcuts around libphonenumber's parse: "+<digits>" stored as
written when libphonenumber would store it unchanged (`_plain_international`), and a
number in national form read with parse's own steps (`_plain_national`). These tests hold
both to libphonenumber's own answers: every country code and region it knows, every
national length, every first digit, every region's example numbers, and random texts
(hypothesis)."""

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from values import phone


def outcome(raw: str, country: str | None, *, shortcut: bool) -> str:
    """The stored number, or "refused: <reason>", with or without the shortcut."""
    originals = phone._plain_international, phone._plain_national
    if not shortcut:
        phone._plain_international = lambda digits: None
        phone._plain_national = lambda digits, region: None
    try:
        return phone.normalize_number(raw, country)
    except phone.InvalidNumber as exc:
        return f"refused: {exc}"
    finally:
        phone._plain_international, phone._plain_national = originals


@pytest.fixture(autouse=True)
def _empty_cache():
    phone._POSSIBLE.clear()
    yield
    phone._POSSIBLE.clear()


def test_every_country_code_length_and_first_digit_agrees_with_libphonenumber():
    rng = random.Random(21)
    taken = 0
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for length in range(0, 19):
            for first in "0123456789":
                national = (first + "".join(rng.choice("0123456789") for _ in range(length)))[
                    :length
                ]
                raw = f"+{code}{national}"
                fast = outcome(raw, None, shortcut=True)
                assert fast == outcome(raw, None, shortcut=False), raw
                taken += phone._plain_international(raw[1:]) is not None
    # The shortcut is taken for most of them (not a test that passes by never using it).
    assert taken > 20_000


def test_romanian_mobiles_take_the_shortcut():
    assert phone._plain_international("40721000123") is True
    assert phone._plain_international("4072100012") is False  # one digit short
    assert phone._plain_international("400721000123") is None  # a national prefix: ask


def test_every_region_agrees_with_libphonenumber_on_national_numbers():
    rng = random.Random(7)
    taken = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        texts = []
        # Its example numbers of every type, written as the region writes them at home.
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                texts.append(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
                )
                # ... and without its national prefix: the digits that must not lose a
                # leading part that only looks like one.
                nsn = phonenumbers.national_significant_number(example)
                texts += [nsn, nsn[:-1], nsn + "0"]
        # Any first digit, any length; and behind its national prefix.
        prefixes = [str(d) for d in range(10)] + [metadata.national_prefix or "0"]
        for length in range(1, 17):
            for prefix in prefixes:
                rest = "".join(rng.choice("0123456789") for _ in range(length))
                texts.append((prefix + rest)[: max(length, len(prefix) + 1)])
        for raw in texts:
            assert outcome(raw, region, shortcut=True) == outcome(raw, region, shortcut=False), (
                region,
                raw,
            )
            digits = "".join(ch for ch in raw if ch.isdigit())
            taken += bool(digits) and phone._plain_national(digits, region) is not None
    assert taken > 30_000  # the shortcut is taken for most of them


def test_romanian_national_numbers_take_the_shortcut():
    number = phone._plain_national("0721000123", "RO")
    assert (number.country_code, number.national_number) == (40, 721000123)
    assert phone.normalize_number("0721 000 123", "RO") == "+40721000123"
    assert phone._plain_national("0040721000123", "RO") is None  # dialled abroad: parse
    assert phone._plain_national("40721000123", "RO") is None  # its country code: parse


@settings(max_examples=400, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=0, max_size=20),
    spaces=st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=3),
    prefix=st.sampled_from(["+", "00", "+ "]),
    country=st.sampled_from([None, "RO", "US", "GB", "IT", "DE"]),
)
def test_any_international_text_agrees_with_libphonenumber(digits, spaces, prefix, country):
    raw = prefix + "".join(spaces) + digits
    assert outcome(raw, country, shortcut=True) == outcome(raw, country, shortcut=False)


@settings(max_examples=400, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=0, max_size=20),
    country=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
)
def test_any_national_text_agrees_with_libphonenumber(digits, country):
    assert outcome(digits, country, shortcut=True) == outcome(digits, country, shortcut=False)
