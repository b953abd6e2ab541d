"""Link tokens: 256 random bits, shown once in an e-mail, stored only as a SHA-256 hash; and the
password-reset token, which is stored nowhere."""

import hashlib
import secrets

from django.contrib.auth.tokens import PasswordResetTokenGenerator


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionBoundPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token (an HMAC over the password hash, the last sign-in and the time), also bound to
    the person's session stamp: whatever ends all their sessions — suspended or removed by a seller, signed
    out everywhere, a seller starting to require two-factor — ends the reset links sent before as well. A
    reset link is for the person, not one seller: someone who works for other sellers asks for a new one,
    and it gives them only the access they still have."""

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.session_stamp}"


password_reset_tokens = SessionBoundPasswordResetTokenGenerator()
