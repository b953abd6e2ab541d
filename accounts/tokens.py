"""Link tokens: 256 random bits, shown once in an e-mail, stored only as a SHA-256 hash."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
