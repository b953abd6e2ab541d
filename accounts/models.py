"""Who: people (users), tenants (sellers), memberships and the e-mails that confirm them."""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .cleaning import normalize_email


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    RUSSIAN = "ru", "Русский"
    CHINESE = "zh-hans", "简体中文"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=normalize_email(username))

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), max_length=254)
    display_name = models.CharField(pgettext_lazy("person", "name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, blank=True, default=""
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Changing the stamp invalidates every session of the user at once, whatever the session backend:
    # Django compares the session's auth hash with get_session_auth_hash() on each request.
    session_stamp = models.UUIDField(default=uuid.uuid4, editable=False)
    last_seller = models.ForeignKey(
        "accounts.Seller", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the password was last set (null: never since this field exists; date_joined stands in). The
    # rotation reminder is sent once per password: `password_reminder_sent_for` holds the
    # `password_changed_at` it was sent for.
    password_changed_at = models.DateTimeField(null=True, blank=True)
    password_reminder_sent_for = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self):
        return self.display_name or self.email

    def get_full_name(self):
        return self.display_name or self.email

    def get_short_name(self):
        return self.display_name or self.email

    def _get_session_auth_hash(self, secret=None):
        key_salt = "ozonseat.accounts.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_stamp}", secret=secret, algorithm="sha256"
        ).hexdigest()


class ReviewDuePolicy(models.TextChoices):
    """What happens to the access nobody answered for when an access review reaches its due date."""

    LEAVE = "leave", _("Leave it as it is")
    SUSPEND = "suspend", _("Suspend those members")
    REMOVE_ASSIGNMENTS = "remove_assignments", _("Take away the unanswered roles")


class Seller(models.Model):
    """The tenant: one business selling on Ozon. Holds its security policy (limits in accounts.policy)."""

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=150)
    default_language = models.CharField(
        _("default language"), max_length=10, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)
    # security policy
    invitation_lifetime_hours = models.PositiveIntegerField(_("invitation lifetime (hours)"), default=72)
    require_two_factor = models.BooleanField(_("require two-factor sign-in"), default=False)
    access_review_interval_days = models.PositiveIntegerField(_("access review every (days)"), default=90)
    access_review_length_days = models.PositiveIntegerField(_("reviewers answer within (days)"), default=14)
    access_review_due_policy = models.CharField(
        _("unanswered at the due date"),
        max_length=20,
        choices=ReviewDuePolicy.choices,
        default=ReviewDuePolicy.LEAVE,
    )
    # 0: passwords never expire (the default, as NIST SP 800-63B advises).
    password_max_age_days = models.PositiveIntegerField(_("passwords expire after (days)"), default=0)
    session_idle_timeout_minutes = models.PositiveIntegerField(
        _("sign out after inactivity (minutes)"), default=60
    )
    session_max_age_hours = models.PositiveIntegerField(_("sign out after (hours) in any case"), default=12)

    def __str__(self):
        return self.name


class MembershipKind(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    SERVICE = "service", _("Service account")


class MembershipStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REMOVED = "removed", _("Removed")


class MembershipQuerySet(models.QuerySet):
    def effective(self, at=None):
        """Memberships that work right now: active and not past their end date."""
        at = at or timezone.now()
        return self.filter(status=MembershipStatus.ACTIVE).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="memberships")
    kind = models.CharField(max_length=10, choices=MembershipKind.choices, default=MembershipKind.MEMBER)
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.INVITED
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    # The name the seller typed when inviting: what the seller calls the person until they join (see
    # display_name). The person's own name lives on the user and is theirs alone to set.
    invited_name = models.CharField(pgettext_lazy("person", "name"), max_length=150, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(_("access ends"), null=True, blank=True)
    # Set when the periodic job has processed the end date, so it records the expiry exactly once.
    expired_at = models.DateTimeField(null=True, blank=True)
    # Kept by the database (triggers of migration 0010), never written by the app: display_name as the
    # seller sees it (accounts.selectors.member_name()), so the members list sorts by an index instead of
    # every member joined with their user; and the e-mail, that name and the job title joined by a unit
    # separator (chr 31), what the members search matches.
    sort_name = models.CharField(max_length=254, default="", editable=False)
    search_text = models.TextField(default="", editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "seller"], name="accounts_membership_user_seller_unique"),
            models.UniqueConstraint(
                fields=["seller"], condition=Q(kind="owner"), name="accounts_membership_one_owner"
            ),
        ]
        indexes = [
            models.Index(fields=["seller", "status"]),
            models.Index(fields=["seller", "kind", "sort_name", "id"], name="accounts_member_list_order"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.seller}"

    @property
    def is_owner(self) -> bool:
        return self.kind == MembershipKind.OWNER

    @property
    def has_joined(self) -> bool:
        """Has the person accepted this seller's invitation (and not been invited again since)? Until then
        the seller knows them only by what it typed itself: their own name, language and sign-ins were
        set by them or in another seller, and are not this seller's to see."""
        if self.kind != MembershipKind.MEMBER:
            return True  # the owner signed up themselves; a service account is the seller's own program
        return self.activated_at is not None and self.status != MembershipStatus.INVITED

    @property
    def display_name(self) -> str:
        """The member's name as this seller sees it: the name it typed until the person joins, then the
        person's own. The one rule for every page, e-mail and API response; `member_name()` in
        accounts.selectors is the same rule in SQL, for searching and sorting."""
        if self.has_joined:
            return self.user.display_name or self.user.email
        return self.invited_name or self.user.email

    @property
    def last_sign_in(self):
        """The person's last sign-in, once they have joined (before, it tells of their work elsewhere)."""
        return self.user.last_login if self.has_joined else None

    @property
    def is_expired(self) -> bool:
        return self.ends_at is not None and self.ends_at <= timezone.now()

    @property
    def is_effective(self) -> bool:
        return self.status == MembershipStatus.ACTIVE and not self.is_expired


class InvitationKind(models.TextChoices):
    INVITATION = "invitation", _("Invitation")
    SIGNUP = "signup", _("E-mail confirmation")


class Invitation(models.Model):
    """One confirmation e-mail. The raw token exists only in the e-mail: it is generated by the task that
    sends the message and only its SHA-256 hash is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="invitations")
    kind = models.CharField(max_length=12, choices=InvitationKind.choices, default=InvitationKind.INVITATION)
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="accounts_invitation_unsent",
                condition=Q(sent_at__isnull=True, revoked_at__isnull=True, accepted_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.email}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class TwoFactorDevice(models.Model):
    """A person's TOTP authenticator. The shared secret is stored encrypted (accounts.two_factor); a device
    works once confirmed with a first code. `last_used_step` refuses a code that was already used."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_device"
    )
    encrypted_secret = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    # Wrong codes in a row, over every sign-in and address, so a fresh password sign-in does not reset
    # the count (accounts.two_factor.wait_before_next_code).
    failed_attempts = models.PositiveIntegerField(default=0)
    last_failed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Authenticator of user {self.user_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A single-use code that stands in for the authenticator once. Only a salted slow hash is stored
    (Django's password hasher): a code has about 50 bits, fewer than the 112 that would allow a plain hash
    (OWASP ASVS 5.0, 6.5.2)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="accounts_recoverycode_user")]

    def __str__(self):
        return f"Recovery code {self.pk} of user {self.user_id}"


class PasswordHistory(models.Model):
    """The hashes of a person's recent passwords, so a new one cannot repeat them (the newest are kept)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history"
    )
    password_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_passwordhistory_user")]
        verbose_name_plural = "password history"

    def __str__(self):
        return f"Earlier password of user {self.user_id}"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, at=None):
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


class RevocationReason(models.TextChoices):
    """Why an API token was revoked: stored with it, shown on the member page and in the API (who revoked it
    and when is in the audit log). Also the reason token.revoked and assignment.revoked events record."""

    REVOKED = "revoked", _("Revoked")
    MEMBER_REMOVED = "member_removed", _("Member removed")


class ApiToken(models.Model):
    """A bearer token for the REST API. It belongs to one membership and acts with exactly its permissions.
    The secret is shown once, when created; only its SHA-256 hash is stored. The prefix (`ozs_` and the
    first characters of the secret) lets people recognise a token in lists and logs."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=20, choices=RevocationReason.choices, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["membership", "revoked_at"], name="accounts_apitoken_membership")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def status(self) -> str:
        """ "active", "expired" or "revoked" (a revoked token says why in `revocation_reason`)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired else "active"


class BrowserSession(models.Model):
    """One browser sign-in, for the lists of open sessions. The session key itself is never stored: the
    session keeps this row's id. `auth_digest` is a SHA-256 of the session's auth hash at sign-in, so the
    row stops counting as open as soon as Django would refuse the session — after "sign out everywhere"
    (the user's session stamp changes) or a password change — without touching the session store."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    auth_digest = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="accounts_browsersession_user")]

    def __str__(self):
        return f"Session {self.pk} of user {self.user_id}"

    @property
    def device(self) -> str:
        from .browser_sessions import describe_device

        return describe_device(self.user_agent)
