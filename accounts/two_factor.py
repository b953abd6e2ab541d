"""Two-factor sign-in with TOTP authenticator apps (RFC 6238, via pyotp) and single-use recovery codes.

Anyone may enrol from their profile. A person must use a second factor once they have enrolled, when any
seller they work for requires it, and when they are staff (the Django admin). Signing in then happens in two
steps: the password step leaves only a *pending* login in the session (a user id, no secret); the code step
— enrolment first if there is no device yet — completes it. The TOTP secret is stored encrypted with a key
derived from SECRET_KEY (old keys in SECRET_KEY_FALLBACKS still decrypt), is shown only on the enrolment
page, and is never logged. Wrong codes are counted per person, over every sign-in and address
(TwoFactorDevice.failed_attempts): past FREE_CODE_FAILURES each further one makes the next try wait longer.
"""

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit import events
from audit.services import record_event
from ozonseat.errors import NotAllowed

from . import sign_in_throttle
from .models import Membership, RecoveryCode, TwoFactorDevice, User

ISSUER = "OzonSeat"
PENDING_KEY = "_ozonseat_two_factor_pending"
PENDING_LIFETIME_SECONDS = 5 * 60
VALID_WINDOW = 1  # accept the previous and next 30-second step too (clock drift)
FREE_CODE_FAILURES = 5
FIRST_CODE_DELAY = timedelta(seconds=30)
LONGEST_CODE_DELAY = timedelta(minutes=15)
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are typed from paper. 10 characters of 31: about 50 bits each.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10

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
    return user.is_staff or confirmed_device(user) is not None or required_by_a_seller(user)


def _record_for_person(action: str, user: User, changes: dict) -> None:
    """A person's own two-factor event, in the log of every seller they work for (else the global log)."""
    for seller_id in sign_in_throttle.seller_ids_of(user):
        record_event(action=action, seller=seller_id, actor=user, target=user, changes=changes)


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


def qr_code_svg(uri: str) -> str:
    """The setup link as a QR code, an inline SVG drawn on the server (no script, no external service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))


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
        _record_for_person(events.TWO_FACTOR_ENROLLED, user, {"two_factor": [False, True]})
    return True


@dataclass(frozen=True)
class CodeCheck:
    accepted: bool
    # False when the code was not even looked at, because the person must wait first.
    checked: bool = True
    # How long the person must wait before the next try (after too many wrong codes).
    wait: sign_in_throttle.Lockout | None = None
    recovery_code: bool = False


def _code_wait(device: TwoFactorDevice, now) -> sign_in_throttle.Lockout | None:
    over = device.failed_attempts - FREE_CODE_FAILURES
    if over < 0 or device.last_failed_at is None:
        return None
    delay = min(FIRST_CODE_DELAY * 2 ** min(over, 20), LONGEST_CODE_DELAY)
    if device.last_failed_at + delay <= now:
        return None
    return sign_in_throttle.Lockout(device.last_failed_at + delay - now, "second_factor")


def verify_code(*, user: User, code: str) -> CodeCheck:
    """Check a sign-in code: a code from the authenticator (each works once: a code of an already used time
    step is refused) or an unused recovery code. The device row is locked, so concurrent tries are counted
    one after the other."""
    with transaction.atomic():
        device = (
            TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        )
        if device is None:
            return CodeCheck(accepted=False)
        now = timezone.now()
        wait = _code_wait(device, now)
        if wait is not None:
            return CodeCheck(accepted=False, checked=False, wait=wait)
        step = _matching_step(decrypt_secret(device.encrypted_secret), code, device.last_used_step)
        recovery = step is None and _use_recovery_code(user, code, now)
        if step is None and not recovery:
            device.failed_attempts += 1
            device.last_failed_at = now
            device.save(update_fields=["failed_attempts", "last_failed_at"])
            began = _code_wait(device, now)
            if began is not None:
                sign_in_throttle.record_lockout(
                    user=user, step=sign_in_throttle.STEP_TWO_FACTOR, lockout=began
                )
                sign_in_throttle.queue_sign_in_alert(
                    user, step=sign_in_throttle.STEP_TWO_FACTOR, address=None
                )
            return CodeCheck(accepted=False, wait=began)
        device.failed_attempts = 0
        device.last_failed_at = None
        if step is not None:
            device.last_used_step = step
        # Re-encrypt with the current SECRET_KEY, so a key rotation completes as people sign in.
        device.encrypted_secret = _fernet().rotate(device.encrypted_secret.encode("ascii")).decode("ascii")
        device.save(update_fields=["last_used_step", "encrypted_secret", "failed_attempts", "last_failed_at"])
    return CodeCheck(accepted=True, recovery_code=recovery)


def remove_second_factor(user: User) -> bool:
    """Remove the person's authenticator and recovery codes (within the caller's transaction; the caller
    checks the right to do it and records it). False when there was nothing to remove."""
    removed, _by_model = TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    return removed > 0


# --- recovery codes ---------------------------------------------------------------------------------


def _normalise_recovery_code(code: str) -> str | None:
    code = "".join(ch for ch in (code or "").lower() if ch not in " -")
    if len(code) != RECOVERY_CODE_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in code):
        return None
    return code


def _use_recovery_code(user: User, code: str, now) -> bool:
    code = _normalise_recovery_code(code)
    if code is None:
        return False
    for recovery in RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
        if check_password(code, recovery.code_hash):
            recovery.used_at = now
            recovery.save(update_fields=["used_at"])
            left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
            _record_for_person(events.RECOVERY_CODE_USED, user, {"recovery_codes_left": [left + 1, left]})
            return True
    return False


def generate_recovery_codes(*, user: User) -> list[str]:
    """Ten new codes; every older one stops working. The codes are returned once, to be shown once: only
    their salted hashes are kept."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _position in range(RECOVERY_CODE_LENGTH))
        for _number in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        replaced = RecoveryCode.objects.filter(user=user).exists()
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=make_password(code)) for code in codes
        )
        _record_for_person(
            events.RECOVERY_CODES_GENERATED, user, {"replaced_earlier_codes": [None, replaced]}
        )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def recovery_codes_file(codes: list[str]) -> str:
    return "\n".join(
        [
            _("OzonSeat recovery codes"),
            _("Each code signs you in once instead of a code from your authenticator app."),
            "",
            *codes,
            "",
        ]
    )


# --- the pending login in the session ---------------------------------------------------------------


def begin_pending_login(request, user: User, *, backend: str, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": backend,
        "next": next_url,
        "started": time.time(),
    }


def pending_login(request) -> tuple[User, dict] | None:
    """The user of a pending login that is still valid (fresh, still active)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - pending["started"] > PENDING_LIFETIME_SECONDS:
        clear_pending_login(request)
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        clear_pending_login(request)
        return None
    return user, pending


def clear_pending_login(request) -> None:
    request.session.pop(PENDING_KEY, None)
