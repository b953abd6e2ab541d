"""The one name cleaner and the one e-mail cleaner: what they keep, what they refuse, and how they say it."""

import unicodedata

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from accounts.cleaning import clean_email, clean_name, name_key, normalize_email
from ozonseat.errors import InvalidInput
from tests.factories import full_width

BIDI_CONTROLS = [chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
OTHER_INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\u180e",  # Mongolian vowel separator
    "\U000e0041",  # tag letter A
    "\u3164",  # Hangul filler
    "\x00",
    "\x1f",
    "\x7f",
]
INVISIBLE = BIDI_CONTROLS + OTHER_INVISIBLE
PERSIAN_WORD = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a zero-width non-joiner


def refusal(call) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("character", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_with_an_invisible_character_is_refused_naming_the_character(character):
    error = refusal(lambda: clean_name(f"محمد {character}abc", field="display_name"))
    assert list(error.errors) == ["display_name"]
    assert f"U+{ord(character):04X}" in str(error.message)
    assert "invisible" in str(error.message)


@pytest.mark.parametrize("character", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_an_address_with_an_invisible_character_is_refused(character):
    error = refusal(lambda: clean_email(f"admin@x.test{character}"))
    assert list(error.errors) == ["email"] and f"U+{ord(character):04X}" in str(error.message)
    error = refusal(lambda: clean_email(f"ad{character}min@x.test"))
    assert f"U+{ord(character):04X}" in str(error.message)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Анна   Петрова ", "Анна Петрова"),
        ("王\u3000小明", "王 小明"),  # an ideographic space is white space: collapsed like any other
        ("Line\nbreak\tand tab", "Line break and tab"),
        ("محمد علی", "محمد علی"),
        (PERSIAN_WORD, PERSIAN_WORD),  # the zero-width non-joiner is part of its spelling
        ("👨\u200d👩\u200d👧 Family shop", "👨\u200d👩\u200d👧 Family shop"),  # an emoji sequence
        ("e\u0301te", "\u00e9te"),  # stored composed (NFC), as it looks
    ],
)
def test_a_name_keeps_what_a_reader_sees(typed, stored):
    assert clean_name(typed) == stored


@pytest.mark.parametrize("typed", ["Pi\u200ccker", "\u200dShop", "Shop\u200c", "拣\u200d 货员"])
def test_a_joiner_outside_a_word_that_needs_it_is_refused(typed):
    assert "U+200" in str(refusal(lambda: clean_name(typed)).message)


def test_blank_and_too_long_names_are_refused():
    assert str(refusal(lambda: clean_name("   ")).message) == "This field is required."
    assert clean_name("   ", required=False) == ""
    assert str(refusal(lambda: clean_name("x" * 101, max_length=100)).message) == "At most 100 characters."
    assert clean_name("x" * 100, max_length=100) == "x" * 100


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Admin@Example.COM ", "admin@example.com"),
        (full_width("Admin@Example.com"), "admin@example.com"),  # as a Chinese keyboard may type it
        ("admin@example.com\u00a0", "admin@example.com"),  # a trailing non-breaking space is white space
    ],
)
def test_an_address_is_stored_in_one_form(typed, stored):
    assert clean_email(typed) == stored == normalize_email(typed)


def test_the_refusal_is_translated():
    with translation.override("zh-hans"):
        zh = str(refusal(lambda: clean_name("a\u202eb")).message)
    with translation.override("ru"):
        ru = str(refusal(lambda: clean_email("a@b.test\u200b")).message)
    assert "U+202E" in zh and "不可见" in zh
    assert "U+200B" in ru and "невидим" in ru


def test_names_that_read_the_same_have_the_same_key():
    assert name_key(full_width("PICKER")) == name_key("picker") == name_key(" Picker ")
    assert name_key("拣\u200d货员") == name_key("拣货员")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Picker") != name_key("Packer")


# Text a person could type: letters, marks, digits, punctuation, symbols and spaces of any script.
typed_text = st.text(
    st.characters(
        categories=["L", "M", "N", "P", "S", "Zs"],
        exclude_characters=sorted(set("\u3164\u115f\u1160\uffa0\u2800\u034f\u17b4\u17b5")),
    ),
    max_size=40,
)


@given(typed_text)
def test_a_cleaned_name_holds_nothing_invisible_and_cleans_to_itself(text):
    try:
        name = clean_name(text, max_length=1000)
    except InvalidInput:
        return  # blank
    assert name == clean_name(name, max_length=1000)
    assert name == name.strip() and "  " not in name
    assert name == unicodedata.normalize("NFC", name)
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in name)


@given(typed_text, st.sampled_from(INVISIBLE), typed_text)
def test_an_invisible_character_anywhere_in_a_name_is_refused(before, character, after):
    with pytest.raises(InvalidInput):
        clean_name(before + character + after, max_length=1000)
