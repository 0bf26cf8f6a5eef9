"""values.phone stores "+<digits>" itself when libphonenumber would store it unchanged
(`_plain_international`); these tests hold that shortcut to libphonenumber's own answer,
over every country code it knows, every national length, every first digit, and random
texts (hypothesis)."""

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from values import phone


def outcome(raw: str, country: str | None, *, shortcut: bool) -> str:
    """The stored number, or "refused: <reason>", with or without the shortcut."""
    original = phone._plain_international
    if not shortcut:
        phone._plain_international = lambda digits: None
    try:
        return phone.normalize_number(raw, country)
    except phone.InvalidNumber as exc:
        return f"refused: {exc}"
    finally:
        phone._plain_international = original


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
