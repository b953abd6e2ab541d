"""What a name and an e-mail address may be: the one place that decides it.

Every service that stores a name (a person, seller, store, warehouse, role, token or service account) calls
`clean_name`, and every one that takes an e-mail address calls `clean_email`, so the dashboard, the API,
commands and tasks accept and refuse exactly the same input with the same message. Forms and serializers
only check shape (required, length).

Invisible characters are refused, never silently removed: a right-to-left override in "محمد ‮abc" makes it
display as "محمد cba", and a zero-width space makes `admin@x.test\u200b` a second, look-alike account. The
person who typed them would not know what was stored, so they are told and asked to type it again.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ozonseat.errors import InvalidInput

MAX_NAME_LENGTH = 150
MAX_EMAIL_LENGTH = 254

# Unicode categories of characters that show nothing themselves: controls, format characters (bidi
# embeddings, overrides, isolates and marks, zero-width spaces and joiners, the byte-order mark, soft
# hyphen, tag characters, ...), surrogates and the line and paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Line breaks and tabs are white space a person typed or pasted: collapsed like spaces, not refused.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\u2028\u2029")
# Letters and marks that render as blank space although Unicode classes them as visible.
_BLANK_CHARACTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
# Zero-width (non-)joiners are part of the spelling of Persian and Indic words and of emoji sequences:
# allowed inside a name between two non-ASCII characters, nowhere else.
_JOINERS = frozenset("\u200c\u200d")


def _is_invisible(character: str) -> bool:
    if character in _WHITESPACE_CONTROLS:
        return False
    return unicodedata.category(character) in _INVISIBLE_CATEGORIES or character in _BLANK_CHARACTERS


def _joins_script(text: str, index: int) -> bool:
    if index == 0 or index == len(text) - 1:
        return False
    neighbours = (text[index - 1], text[index + 1])
    return all(not c.isascii() and not c.isspace() and not _is_invisible(c) for c in neighbours)


def first_invisible_character(text: str, *, allow_joiners: bool = False) -> str | None:
    """The first character of `text` that shows nothing (see the module docstring), or None."""
    for index, character in enumerate(text):
        if _is_invisible(character):
            if allow_joiners and character in _JOINERS and _joins_script(text, index):
                continue
            return character
    return None


def _invisible_message(character: str) -> str:
    return _(
        "This contains an invisible character (U+%(code)04X), often picked up by copying and pasting. "
        "Type it again without it."
    ) % {"code": ord(character)}


def _too_long_message(max_length: int) -> str:
    return ngettext("At most %(count)d character.", "At most %(count)d characters.", max_length) % {
        "count": max_length
    }


# --- names ----------------------------------------------------------------------------------------


def clean_name(
    value, *, field: str = "name", required: bool = True, max_length: int = MAX_NAME_LENGTH
) -> str:
    """A name as it is stored: Unicode NFC, every run of white space one space, no space at either end.
    Refused (InvalidInput on `field`): blank when required, longer than `max_length`, or holding an
    invisible character."""
    typed = unicodedata.normalize("NFC", value or "")
    # Looked for before white space is collapsed: str.split() would also swallow a few control characters.
    invisible = first_invisible_character(typed, allow_joiners=True)
    if invisible is not None:
        raise InvalidInput(field=field, message=_invisible_message(invisible))
    name = " ".join(typed.split())
    if required and not name:
        raise InvalidInput(field=field, message=_("This field is required."))
    if len(name) > max_length:
        raise InvalidInput(field=field, message=_too_long_message(max_length))
    return name


def name_key(name: str) -> str:
    """What two names are compared by when they must differ: compatibility forms folded (full-width
    letters, ligatures), case folded, joiners and spacing ignored: "PICKER" typed in full-width
    letters and "picker" are the same name to a reader, so they are the same key."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return " ".join("".join(c for c in folded if c not in _JOINERS).split())


# --- e-mail addresses -----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The form an address is stored and looked up in: NFKC (full-width and other compatibility
    characters become their plain form, as Django normalises usernames), trimmed, lower-cased: the
    address is the login and unique case-insensitively."""
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def clean_email(value, *, field: str = "email") -> str:
    """A normalised, valid address with nothing invisible in it, or InvalidInput on `field`."""
    # Looked for in what was typed: normalising may turn one invisible character into another.
    invisible = first_invisible_character(value or "")
    if invisible is not None:
        raise InvalidInput(field=field, message=_invisible_message(invisible))
    email = normalize_email(value)
    if not email:
        raise InvalidInput(field=field, message=_("Enter an e-mail address."))
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInput(field=field, message=_("An e-mail address is at most 254 characters."))
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(field=field, message=_("Enter a valid e-mail address.")) from None
    return email


def validate_visible(value: str) -> None:
    """A form-field validator for the one entry that reaches no service (the sign-in address): the same
    refusal as clean_email, as a ValidationError."""
    invisible = first_invisible_character(value or "")
    if invisible is not None:
        raise ValidationError(_invisible_message(invisible), code="invisible_character")
