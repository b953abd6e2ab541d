"""Two-factor sign-in with TOTP authenticator apps (RFC 6238, via pyotp).

A person must use a second factor when any seller they work for requires it, and always once they have
enrolled a device. Signing in then happens in two steps: the password step leaves only a *pending* login
in the session (a user id, no secret); the code step — enrolment first if there is no device yet —
completes it. The TOTP secret is stored encrypted with a key derived from SECRET_KEY (old keys in
SECRET_KEY_FALLBACKS still decrypt), is shown only on the enrolment page, and is never logged.
"""

import base64
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from audit import events
from audit.services import record_event
from ozonseat.errors import NotAllowed

from .browser_sessions import auth_digest
from .models import Membership, TwoFactorDevice, User

ISSUER = "OzonSeat"
PENDING_KEY = "_ozonseat_two_factor_pending"
PENDING_LIFETIME_SECONDS = 5 * 60
MAX_ATTEMPTS = 5
VALID_WINDOW = 1  # accept the previous and next 30-second step too (clock drift)

# --- the secret at rest -----------------------------------------------------------------------------


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac("ozonseat.accounts.two_factor", "", secret=key, algorithm="sha256").digest()
                )
            )
            for key in keys
        ]
    )


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(encrypted: str) -> str:
    try:
        return _fernet().decrypt(encrypted.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise RuntimeError("The two-factor secret cannot be decrypted: was SECRET_KEY changed?") from None


# --- who needs it -----------------------------------------------------------------------------------


def confirmed_device(user) -> TwoFactorDevice | None:
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def required_by_a_seller(user) -> bool:
    return Membership.objects.effective().filter(user=user, seller__require_two_factor=True).exists()


def needs_second_factor(user) -> bool:
    return confirmed_device(user) is not None or required_by_a_seller(user)


# --- enrolment and verification ---------------------------------------------------------------------


def start_enrolment(*, user: User) -> str:
    """The secret to show for a new authenticator; reloading the page shows the same one until confirmed.
    A person with a confirmed device cannot enrol another here: a password alone must not replace it."""
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.is_confirmed:
            raise NotAllowed(code="device_exists")
        if device is None:
            secret = pyotp.random_base32()
            TwoFactorDevice.objects.create(user=user, encrypted_secret=encrypt_secret(secret))
            return secret
        return decrypt_secret(device.encrypted_secret)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, after_step: int) -> int | None:
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(timezone.now())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if step > after_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(*, user: User, code: str) -> bool:
    """Confirm the new device with a first code from the app. Records the enrolment for every seller the
    person works for."""
    with transaction.atomic():
        device = (
            TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
        )
        if device is None:
            return False
        step = _matching_step(decrypt_secret(device.encrypted_secret), code, device.last_used_step)
        if step is None:
            return False
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        seller_ids = (
            Membership.objects.effective()
            .filter(user=user)
            .order_by("seller_id")
            .values_list("seller_id", flat=True)
        )
        for seller_id in [*seller_ids] or [None]:
            record_event(
                action=events.TWO_FACTOR_ENROLLED,
                seller=seller_id,
                actor=user,
                target=user,
                changes={"two_factor": [False, True]},
            )
    return True


def verify_code(*, user: User, code: str) -> bool:
    """Check a sign-in code. Each code works once: a code of an already used time step is refused."""
    with transaction.atomic():
        device = (
            TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        )
        if device is None:
            return False
        step = _matching_step(decrypt_secret(device.encrypted_secret), code, device.last_used_step)
        if step is None:
            return False
        device.last_used_step = step
        # Re-encrypt with the current SECRET_KEY, so a key rotation completes as people sign in.
        device.encrypted_secret = _fernet().rotate(device.encrypted_secret.encode("ascii")).decode("ascii")
        device.save(update_fields=["last_used_step", "encrypted_secret"])
    return True


# --- the pending login in the session ---------------------------------------------------------------


def begin_pending_login(request, user: User, *, backend: str, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        # Bound like a session: whatever would end the person's sessions (suspended or removed by a seller,
        # signed out everywhere, a new password) ends a sign-in waiting for its code too.
        "auth": auth_digest(user),
        "backend": backend,
        "next": next_url,
        "started": time.time(),
        "attempts": 0,
    }


def pending_login(request) -> tuple[User, dict] | None:
    """The user of a pending login that is still valid (fresh, under the attempt limit, still active)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - pending["started"] > PENDING_LIFETIME_SECONDS or pending["attempts"] >= MAX_ATTEMPTS:
        clear_pending_login(request)
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None or not constant_time_compare(pending.get("auth", ""), auth_digest(user)):
        clear_pending_login(request)
        return None
    return user, pending


def count_failed_attempt(request) -> int:
    pending = request.session[PENDING_KEY]
    pending["attempts"] += 1
    request.session[PENDING_KEY] = pending
    return MAX_ATTEMPTS - pending["attempts"]


def clear_pending_login(request) -> None:
    request.session.pop(PENDING_KEY, None)
