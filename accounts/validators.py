"""Password validators (AUTH_PASSWORD_VALIDATORS): strength estimated by zxcvbn, and no reuse of recent
passwords. Messages are in the person's language: zxcvbn's own feedback is English, so every sentence it
can say is translated here (ZXCVBN_FEEDBACK; a test fails when an upgrade of zxcvbn adds one)."""

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from zxcvbn import zxcvbn

# zxcvbn scores 0 to 4. 4 means "very unguessable": at least 10^10 guesses, strong protection even against an
# offline attack on a stolen slow hash. 3 would let `Summer2024!!` through (about 3·10^8 guesses).
MIN_SCORE = 4
# zxcvbn is slow on very long input; nothing that long is guessable anyway.
ESTIMATED_CHARACTERS = 100
REMEMBERED_PASSWORDS = 5

ZXCVBN_FEEDBACK = {
    "Use a few words, avoid common phrases.": gettext_lazy("Use a few words, avoid common phrases."),
    "No need for symbols, digits, or uppercase letters.": gettext_lazy(
        "No need for symbols, digits, or uppercase letters."
    ),
    "Add another word or two. Uncommon words are better.": gettext_lazy(
        "Add another word or two. Uncommon words are better."
    ),
    "Straight rows of keys are easy to guess.": gettext_lazy("Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": gettext_lazy("Short keyboard patterns are easy to guess."),
    "Use a longer keyboard pattern with more turns.": gettext_lazy(
        "Use a longer keyboard pattern with more turns."
    ),
    'Repeats like "aaa" are easy to guess.': gettext_lazy('Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': gettext_lazy(
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
    ),
    "Avoid repeated words and characters.": gettext_lazy("Avoid repeated words and characters."),
    'Sequences like "abc" or "6543" are easy to guess.': gettext_lazy(
        'Sequences like "abc" or "6543" are easy to guess.'
    ),
    "Avoid sequences.": gettext_lazy("Avoid sequences."),
    "Recent years are easy to guess.": gettext_lazy("Recent years are easy to guess."),
    "Avoid recent years.": gettext_lazy("Avoid recent years."),
    "Avoid years that are associated with you.": gettext_lazy("Avoid years that are associated with you."),
    "Dates are often easy to guess.": gettext_lazy("Dates are often easy to guess."),
    "Avoid dates and years that are associated with you.": gettext_lazy(
        "Avoid dates and years that are associated with you."
    ),
    "This is a top-10 common password.": gettext_lazy("This is a top-10 common password."),
    "This is a top-100 common password.": gettext_lazy("This is a top-100 common password."),
    "This is a very common password.": gettext_lazy("This is a very common password."),
    "This is similar to a commonly used password.": gettext_lazy(
        "This is similar to a commonly used password."
    ),
    "A word by itself is easy to guess.": gettext_lazy("A word by itself is easy to guess."),
    "Names and surnames by themselves are easy to guess.": gettext_lazy(
        "Names and surnames by themselves are easy to guess."
    ),
    "Common names and surnames are easy to guess.": gettext_lazy(
        "Common names and surnames are easy to guess."
    ),
    "Capitalization doesn't help very much.": gettext_lazy("Capitalization doesn't help very much."),
    "All-uppercase is almost as easy to guess as all-lowercase.": gettext_lazy(
        "All-uppercase is almost as easy to guess as all-lowercase."
    ),
    "Reversed words aren't much harder to guess.": gettext_lazy(
        "Reversed words aren't much harder to guess."
    ),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": gettext_lazy(
        "Predictable substitutions like '@' instead of 'a' don't help very much."
    ),
}


def translate_feedback(text: str) -> str:
    return str(ZXCVBN_FEEDBACK.get(text, text))


def _personal_words(user) -> list[str]:
    """Words a password must not lean on: the person's name and address, and the product's name."""
    words = ["ozonseat", "ozon", "seat"]
    if user is not None:
        email = getattr(user, "email", "") or ""
        words += [
            email,
            *email.replace("@", ".").split("."),
            *(getattr(user, "display_name", "") or "").split(),
        ]
    return [word for word in words if word]


class PasswordStrengthValidator:
    """Refuses a password zxcvbn can guess in fewer than about 10^10 tries, saying why and what helps."""

    def validate(self, password, user=None):
        result = zxcvbn(password[:ESTIMATED_CHARACTERS], user_inputs=_personal_words(user))
        if result["score"] >= MIN_SCORE:
            return
        feedback = result["feedback"]
        messages = [_("This password is too easy to guess.")]
        if feedback.get("warning"):
            messages.append(translate_feedback(feedback["warning"]))
        messages += [translate_feedback(suggestion) for suggestion in feedback.get("suggestions", [])]
        if len(messages) == 1:
            messages.append(_("Add another word or two. Uncommon words are better."))
        raise ValidationError(messages, code="password_too_guessable")

    def get_help_text(self):
        return _("Hard to guess: a few uncommon words make a good password.")


class PasswordReuseValidator:
    """Refuses the current password and the ones before it (the last REMEMBERED_PASSWORDS in all)."""

    def validate(self, password, user=None):
        from .models import PasswordHistory, User

        if user is None or user.pk is None:
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-pk")
            .values_list("password_hash", flat=True)[:REMEMBERED_PASSWORDS]
        )
        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if stored:
            hashes.append(stored)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                _("Choose a password you have not used recently (your last %(count)d cannot be used again).")
                % {"count": REMEMBERED_PASSWORDS},
                code="password_reused",
            )

    def get_help_text(self):
        return _("Not one of your last %(count)d passwords.") % {"count": REMEMBERED_PASSWORDS}
