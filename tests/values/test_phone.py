"""Phone-number normalization (SPEC §5.4) against the project's table of cases, plus units."""

import csv
from pathlib import Path

import pytest

from values import phone
from values.phone import InvalidNumber, is_stored_number, normalize_number

# The project's own table of cases, kept among the tests (tests/data/).
CASES_FILE = Path(__file__).resolve().parent.parent / "data" / "callerid-normalization.tsv"


def _cases() -> list:
    with CASES_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [
            row
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            if row and not row[0].startswith("#")
        ]
    return [pytest.param(*row, id=f"{i}:{row[0]!r}:{row[1]}") for i, row in enumerate(rows, 1)]


CASES = _cases()


def test_the_cases_file_is_found_and_read_whole():
    assert CASES_FILE.is_file(), CASES_FILE
    assert len(CASES) >= 25
    assert all(len(case.values) == 3 for case in CASES)
    assert any(case.values[0] == "" for case in CASES)  # an empty input survived the reader


@pytest.mark.parametrize(("raw", "country", "expected"), CASES)
def test_every_case_of_the_table_is_stored_as_listed(raw, country, expected):
    if expected == "ERROR":
        with pytest.raises(InvalidNumber) as excinfo:
            normalize_number(raw, country or None)
        assert str(excinfo.value)  # a message the user can act on
    else:
        assert normalize_number(raw, country or None) == expected


def test_the_three_spellings_of_one_caller_are_the_same_number():
    spellings = ["0721 000 123", "+40721000123", "0040721000123"]
    assert {normalize_number(s, "RO") for s in spellings} == {"+40721000123"}


def test_no_break_spaces_tabs_and_unicode_dashes_are_removed():
    assert normalize_number("+40\u00a0721\t000\u2013123", None) == "+40721000123"


def test_a_local_only_number_with_plus_is_refused():
    with pytest.raises(InvalidNumber, match="not a possible international number"):
        normalize_number("+1 555 0134", None)


def test_non_ascii_digits_are_refused():
    with pytest.raises(InvalidNumber, match="Use only digits"):
        normalize_number("\u0661\u0662\u0663\u0664", None)  # Arabic-Indic digits


def test_none_is_refused_with_a_clear_message():
    with pytest.raises(InvalidNumber, match="Enter a phone number"):
        normalize_number(None, "RO")


def test_the_default_country_is_case_insensitive():
    assert normalize_number("0721 000 123", "ro") == "+40721000123"


@pytest.mark.parametrize(
    ("value", "stored"),
    [("+40721000123", True), ("1234", True), ("12", False), ("+", False), ("", False)],
)
def test_is_stored_number_recognizes_the_stored_shape(value, stored):
    assert is_stored_number(value) is stored


def test_the_ascii_shortcut_removes_exactly_what_the_unicode_rule_removes():
    # _strip translates ASCII text with a table; every other text goes character by
    # character through _removed. Both must agree on every character, alone or in a text.
    for code in range(0x3100):
        ch = chr(code)
        expected = "" if phone._removed(ch) else ch
        assert phone._strip(ch) == expected, hex(code)
        assert phone._strip(f"1{ch}2 3") == f"1{expected}23", hex(code)
    assert phone._strip("+40 (721) 000-123.") == "+40721000123"
    assert phone._strip("+40\u00a0721\u2013000\u2009123") == "+40721000123"
