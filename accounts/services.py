"""Writes for people, sellers and memberships.

Every function checks the actor's right, runs in one transaction, locks the rows it changes, records its
audit event in that same transaction and queues e-mails only after commit.
"""

import uuid
import zoneinfo
from datetime import timedelta

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events
from audit.services import diff, record_event
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound

from . import browser_sessions, hooks, password_policy
from .authorization import (
    MANAGE_MEMBERS,
    member_has_permission_everywhere,
    require_may_act_on,
    require_owner,
    require_seller_permission,
)
from .cleaning import clean_email, clean_name, normalize_email
from .emails import queue_invitation_email
from .models import (
    Invitation,
    InvitationKind,
    Language,
    Membership,
    MembershipKind,
    MembershipStatus,
    ReviewDuePolicy,
    Seller,
    User,
)
from .tokens import hash_token

# --- validation helpers ---------------------------------------------------------------------------


def _clean_language(language: str, field: str = "language", *, allow_blank: bool = False) -> str:
    if allow_blank and not language:
        return ""
    if language not in Language.values:
        raise InvalidInput(field=field, message=_("Choose one of the offered languages."))
    return language


def _validate_password(password: str, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput({field: list(error.messages)}) from None


def _lock_membership(membership: Membership) -> Membership:
    return Membership.objects.select_for_update().select_related("user", "seller").get(pk=membership.pk)


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session's stored auth hash stops matching."""
    _end_sessions_of([user.pk])


def _end_sessions_of(user_ids) -> None:
    # One new stamp for all of them is enough: the auth hash also covers each user's own password hash.
    User.objects.filter(pk__in=user_ids).update(session_stamp=uuid.uuid4())
    browser_sessions.end_all(user_ids)


def _open_invitations(membership: Membership):
    return Invitation.objects.select_for_update().filter(
        membership=membership, accepted_at__isnull=True, revoked_at__isnull=True
    )


def _new_invitation(*, membership: Membership, kind: str, created_by: User | None) -> Invitation:
    return Invitation.objects.create(
        membership=membership,
        kind=kind,
        email=membership.user.email,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(hours=membership.seller.invitation_lifetime_hours),
    )


def _replace_link(membership: Membership, *, kind: str, actor: User, action: str) -> Invitation:
    """A new link e-mailed after commit; every older open link of the membership stops working. The caller
    holds the membership's row lock."""
    _open_invitations(membership).update(revoked_at=timezone.now())
    invitation = _new_invitation(membership=membership, kind=kind, created_by=actor)
    record_event(
        action=action,
        seller=membership.seller,
        actor=actor,
        target=membership,
        changes={"invitation_id": [None, invitation.pk]},
    )
    queue_invitation_email(invitation.pk)
    return invitation


# --- sellers and sign-up --------------------------------------------------------------------------


def sign_up_seller(
    *,
    email: str,
    password: str,
    display_name: str,
    seller_name: str,
    language: str = "en",
    time_zone: str = "UTC",
) -> Membership:
    """Create a seller and its owner. The owner works only after confirming the address by link."""
    email = clean_email(email)
    display_name = clean_name(display_name, field="display_name")
    seller_name = clean_name(seller_name, field="seller_name")
    language = _clean_language(language)
    _validate_time_zone(time_zone)
    user = User(email=email, display_name=display_name, preferred_language=language, is_active=False)
    _validate_password(password, user)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(
                _("An account with this e-mail address already exists. Sign in, or reset your password."),
                field="email",
                code="email_taken",
            )
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # a concurrent sign-up with the same address won the race
            raise Conflict(
                _("An account with this e-mail address already exists."), field="email", code="email_taken"
            ) from None
        password_policy.remember_password(user)
        seller = Seller.objects.create(name=seller_name, default_language=language, time_zone=time_zone)
        membership = Membership.objects.create(
            user=user, seller=seller, kind=MembershipKind.OWNER, status=MembershipStatus.INVITED
        )
        hooks.seller_created(seller)
        record_event(
            action=events.SELLER_CREATED,
            seller=seller,
            actor=user,
            target=seller,
            changes={"owner_user_id": [None, user.pk], "status": [None, "pending_confirmation"]},
        )
        invitation = _new_invitation(membership=membership, kind=InvitationKind.SIGNUP, created_by=user)
        queue_invitation_email(invitation.pk)
    return membership


def _validate_time_zone(time_zone: str, field: str = "time_zone") -> None:
    if time_zone not in zoneinfo.available_timezones():
        raise InvalidInput(field=field, message=_("Choose a valid time zone."))


RESEND_CONFIRMATION_AFTER = timedelta(minutes=1)


def resend_sign_up_confirmation(*, user_id: int) -> Invitation:
    """A new confirmation link for an owner who signed up but has not confirmed the address; older links
    stop working. The caller has checked the password (the sign-in form did, in this browser session)."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        membership = (
            Membership.objects.select_for_update()
            .select_related("user", "seller")
            .filter(user=user, kind=MembershipKind.OWNER, status=MembershipStatus.INVITED)
            .order_by("pk")
            .first()
        )
        if user is None or user.email_verified_at is not None or membership is None:
            raise Conflict(_("Your e-mail address is already confirmed. Sign in."), code="confirmed")
        now = timezone.now()
        links = _open_invitations(membership).filter(kind=InvitationKind.SIGNUP)
        if links.filter(created_at__gt=now - RESEND_CONFIRMATION_AFTER).exists():
            # A double click, or a second request before the first e-mail could arrive: one e-mail is enough.
            raise Conflict(
                _("A new link was sent less than a minute ago. Check your inbox and spam folder."),
                code="too_soon",
            )
        return _replace_link(
            membership, kind=InvitationKind.SIGNUP, actor=user, action=events.CONFIRMATION_RESENT
        )


def update_seller_settings(
    *,
    actor: User,
    seller: Seller,
    name: str,
    default_language: str,
    time_zone: str,
    invitation_lifetime_hours: int,
    require_two_factor: bool,
    access_review_interval_days: int,
    access_review_length_days: int | None = None,
    access_review_due_policy: str | None = None,
    **sign_in_policy,
) -> Seller:
    """`sign_in_policy`: any of policy.SIGN_IN_POLICY_FIELDS; one left out stays as it is, as do the review
    length and due-date policy when None."""
    from .authorization import MANAGE_SECURITY
    from .policy import clean_sign_in_policy

    require_seller_permission(actor=actor, seller=seller, permission=MANAGE_SECURITY)
    new = {
        "name": clean_name(name, field="name"),
        "default_language": _clean_language(default_language, "default_language"),
        "time_zone": time_zone,
        "invitation_lifetime_hours": invitation_lifetime_hours,
        "require_two_factor": bool(require_two_factor),
        "access_review_interval_days": access_review_interval_days,
        "access_review_length_days": seller.access_review_length_days
        if access_review_length_days is None
        else access_review_length_days,
        "access_review_due_policy": seller.access_review_due_policy
        if access_review_due_policy is None
        else access_review_due_policy,
        **clean_sign_in_policy(sign_in_policy),
    }
    _validate_time_zone(time_zone)
    if not 1 <= int(invitation_lifetime_hours) <= 24 * 30:
        raise InvalidInput(field="invitation_lifetime_hours", message=_("Between 1 hour and 30 days."))
    if not 7 <= int(access_review_interval_days) <= 366:
        raise InvalidInput(field="access_review_interval_days", message=_("Between 7 and 366 days."))
    if not 7 <= int(new["access_review_length_days"]) <= 90:
        raise InvalidInput(field="access_review_length_days", message=_("Between 7 and 90 days."))
    if int(new["access_review_length_days"]) > int(access_review_interval_days):
        raise InvalidInput(
            field="access_review_length_days",
            message=_("A review cannot last longer than the time between two reviews."),
        )
    if new["access_review_due_policy"] not in ReviewDuePolicy.values:
        raise InvalidInput(field="access_review_due_policy", message=_("Choose one of the offered policies."))
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller.pk)
        old = {name: getattr(seller, name) for name in new}
        changes = diff(old, new)
        if not changes:
            return seller
        for name, value in new.items():
            setattr(seller, name, value)
        seller.save(update_fields=list(changes))
        if changes.get("require_two_factor") == [False, True]:
            _end_sessions_without_second_factor(seller, except_user=actor)
        record_event(action=events.SELLER_UPDATED, seller=seller, actor=actor, target=seller, changes=changes)
    return seller


def _end_sessions_without_second_factor(seller: Seller, *, except_user: User) -> None:
    """When a seller starts requiring two-factor sign-in, members signed in with a password alone are
    signed out, so their next sign-in sets up the authenticator. The owner making the change is asked at
    their next sign-in instead of being thrown out mid-click."""
    _end_sessions_of(
        list(
            Membership.objects.effective()
            .filter(seller=seller)
            .exclude(user_id=except_user.pk)
            .exclude(user__two_factor_device__confirmed_at__isnull=False)
            .values_list("user_id", flat=True)
        )
    )


# --- invitations ----------------------------------------------------------------------------------


def invite_member(
    *,
    actor: User,
    seller: Seller,
    email: str,
    display_name: str = "",
    language: str = "",
    job_title: str = "",
    ends_at=None,
    authorize=None,
) -> Membership:
    """Invite a person. Inviting someone with no role needs members.manage for the whole seller (their
    access would lie outside any narrower scope); `authorize()`, when given, is the check of a caller that
    gives the new member roles in the same transaction (roles.invitations.invite_member_with_roles: the
    roles keep them within the inviting lead's scope).

    An address that already has an OzonSeat user (another seller's staff) gets a membership on that same
    user; they accept while signed in. `display_name` is what this seller calls the person until they join
    (Membership.invited_name): it never becomes the person's own name, and the name they chose or another
    seller typed is never shown here.
    """
    if authorize is not None:
        authorize()
    else:
        actor_membership = require_seller_permission(actor=actor, seller=seller, permission=MANAGE_MEMBERS)
        if not member_has_permission_everywhere(actor_membership, MANAGE_MEMBERS):
            raise NotAllowed(
                _(
                    "You manage sub-accounts only in part of the seller: give the new sub-account a role "
                    "within it when you invite them."
                ),
                code="needs_role",
                permission=MANAGE_MEMBERS,
            )
    email = clean_email(email)
    display_name = clean_name(display_name, field="display_name")
    job_title = clean_name(job_title, field="job_title", required=False, max_length=100)
    language = _clean_language(language, allow_blank=True) or seller.default_language
    if ends_at is not None and ends_at <= timezone.now():
        raise InvalidInput(field="ends_at", message=_("The end date must be in the future."))
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(email=email, preferred_language=language)
            except IntegrityError:
                # A concurrent invitation or sign-up created this address first and has committed (the
                # insert waited for it): continue with that user, as if it had existed all along.
                user = User.objects.select_for_update().filter(email__iexact=email).first()
                if user is None:
                    raise Conflict(_("This address was just registered; try again."), field="email") from None
        membership = Membership.objects.select_for_update().filter(user=user, seller=seller).first()
        if membership is not None and membership.status != MembershipStatus.REMOVED:
            raise Conflict(
                _("%(email)s is already a member of this seller.") % {"email": email},
                field="email",
                code="already_member",
            )
        now = timezone.now()
        if membership is None:
            membership = Membership.objects.create(
                user=user,
                seller=seller,
                kind=MembershipKind.MEMBER,
                status=MembershipStatus.INVITED,
                invited_by=actor,
                invited_name=display_name,
                job_title=job_title,
                ends_at=ends_at,
                created_at=now,
            )
        else:  # a removed member invited again: same row, history kept in the audit log
            # They start with exactly what this invitation gives. Removal ended their tokens and roles;
            # this also clears any a removal before that rule left behind.
            _end_access_of_leaver(actor=actor, membership=membership)
            membership.status = MembershipStatus.INVITED
            membership.kind = MembershipKind.MEMBER
            membership.invited_by = actor
            membership.invited_name = display_name
            membership.job_title = job_title
            membership.ends_at = ends_at
            membership.activated_at = None
            membership.removed_at = None
            membership.suspended_at = None
            membership.expired_at = None
            membership.save()
        invitation = _new_invitation(membership=membership, kind=InvitationKind.INVITATION, created_by=actor)
        record_event(
            action=events.MEMBER_INVITED,
            seller=seller,
            actor=actor,
            target=membership,
            # The membership names the person; their global user id is not this seller's to see.
            changes={
                "status": [None, MembershipStatus.INVITED],
                "ends_at": [None, ends_at],
                "invitation_id": [None, invitation.pk],
            },
        )
        queue_invitation_email(invitation.pk)
    return membership


def resend_invitation(*, actor: User, membership: Membership) -> Invitation:
    """Send a new link; every older link of this membership stops working."""
    with transaction.atomic():
        membership = _lock_membership(membership)
        require_may_act_on(actor=actor, membership=membership)
        if membership.status != MembershipStatus.INVITED or membership.kind == MembershipKind.OWNER:
            raise Conflict(_("Only a pending invitation can be resent."), code="not_invited")
        return _replace_link(
            membership, kind=InvitationKind.INVITATION, actor=actor, action=events.INVITATION_RESENT
        )


def revoke_invitation(*, actor: User, membership: Membership) -> Membership:
    """Withdraw a pending invitation: the link stops working and the membership is removed, with the
    roles given with it."""
    with transaction.atomic():
        membership = _lock_membership(membership)
        require_may_act_on(actor=actor, membership=membership)
        if membership.status != MembershipStatus.INVITED or membership.kind == MembershipKind.OWNER:
            raise Conflict(_("Only a pending invitation can be revoked."), code="not_invited")
        now = timezone.now()
        _open_invitations(membership).update(revoked_at=now)
        membership.status = MembershipStatus.REMOVED
        membership.removed_at = now
        membership.save(update_fields=["status", "removed_at"])
        hooks.membership_changed(membership)
        record_event(
            action=events.INVITATION_REVOKED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes={"status": [MembershipStatus.INVITED, MembershipStatus.REMOVED]},
        )
        # The roles given with the invitation end with it.
        _end_access_of_leaver(actor=actor, membership=membership)
    return membership


class InvitationProblem(NotFound):
    """An invitation link that cannot be used. `code` says why; the message is safe to show."""


def get_invitation_by_token(token: str, *, lock: bool = False) -> Invitation:
    if not token or len(token) > 100:
        raise InvitationProblem(_("This link is not valid."), code="invalid")
    queryset = Invitation.objects.select_related("membership__seller", "membership__user", "created_by")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationProblem(
            _("This link is not valid. It may have been replaced by a newer one."), code="invalid"
        )
    if invitation.accepted_at is not None:
        raise InvitationProblem(_("This link has already been used."), code="used")
    if invitation.revoked_at is not None:
        raise InvitationProblem(_("This link was withdrawn or replaced by a newer one."), code="revoked")
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem(_("This link has expired. Ask for a new one."), code="expired")
    return invitation


def _sets_password_on_accept(user: User) -> bool:
    """A person without a password sets one when accepting. So does someone who signed up but never
    confirmed their address: they cannot sign in, and the invitation link proves the address as well."""
    return not user.has_usable_password() or (not user.is_active and user.email_verified_at is None)


def invitation_needs_password(invitation: Invitation) -> bool:
    return _sets_password_on_accept(invitation.membership.user)


def invitation_name(invitation: Invitation) -> str:
    """The name to greet the invited person by and to offer on the accept page: their own if they have
    set one, else the one the inviting seller typed. Shown only to the person the link was sent to."""
    membership = invitation.membership
    return membership.user.display_name or membership.invited_name


def accept_invitation(
    *, token: str, signed_in_user: User | None, display_name: str = "", password: str = ""
) -> Membership:
    """Accept an invitation. A new person sets name and password here; a person who already has an
    OzonSeat user must be signed in as that user. Anyone else signed in is refused."""
    with transaction.atomic():
        invitation = get_invitation_by_token(token, lock=True)
        if invitation.kind != InvitationKind.INVITATION:
            raise InvitationProblem(_("This link is not valid."), code="invalid")
        membership = _lock_membership(invitation.membership)
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if membership.status != MembershipStatus.INVITED:
            raise InvitationProblem(_("This invitation is no longer pending."), code="not_pending")
        if membership.is_expired:
            raise InvitationProblem(
                _("The access this invitation gives has already ended. Ask for a new invitation."),
                code="ended",
            )
        if normalize_email(invitation.email) != normalize_email(user.email):
            raise InvitationProblem(_("This link is not valid."), code="invalid")
        signed_in = signed_in_user is not None and signed_in_user.is_authenticated
        if signed_in and signed_in_user.pk != user.pk:
            raise NotAllowed(
                _("This invitation was sent to another address. Sign out, then open the link again."),
                code="wrong_user",
            )
        now = timezone.now()
        changes = {"status": [MembershipStatus.INVITED, MembershipStatus.ACTIVE]}
        if not _sets_password_on_accept(user):
            if not signed_in:
                raise NotAllowed(
                    _("You already have an OzonSeat account. Sign in, then open the link again."),
                    code="sign_in_required",
                )
        else:
            display_name = clean_name(display_name or invitation_name(invitation), field="display_name")
            user.display_name = display_name
            _validate_password(password, user)
            user.set_password(password)
            changes["password_set"] = [False, True]
        user.is_active = True
        if user.email_verified_at is None:
            user.email_verified_at = now
        user.save()
        if "password_set" in changes:
            password_policy.remember_password(user)
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        membership.status = MembershipStatus.ACTIVE
        membership.activated_at = now
        membership.save(update_fields=["status", "activated_at"])
        # The caller signs this user in: it must carry the new password hash, or the session's auth hash
        # would not match the stored user and the very next request would be anonymous.
        membership.user = user
        hooks.membership_changed(membership)
        record_event(
            action=events.INVITATION_ACCEPTED,
            seller=membership.seller,
            actor=user,
            target=membership,
            changes=changes,
        )
    return membership


def confirm_email(*, token: str) -> Membership:
    """Confirm a new owner's address: the user and the owner membership start working."""
    with transaction.atomic():
        invitation = get_invitation_by_token(token, lock=True)
        if invitation.kind != InvitationKind.SIGNUP:
            raise InvitationProblem(_("This link is not valid."), code="invalid")
        membership = _lock_membership(invitation.membership)
        user = User.objects.select_for_update().get(pk=membership.user_id)
        now = timezone.now()
        user.is_active = True
        user.email_verified_at = now
        user.save(update_fields=["is_active", "email_verified_at"])
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        membership.status = MembershipStatus.ACTIVE
        membership.activated_at = now
        membership.save(update_fields=["status", "activated_at"])
        hooks.membership_changed(membership)
        record_event(
            action=events.EMAIL_CONFIRMED,
            seller=membership.seller,
            actor=user,
            target=membership,
            changes={"status": [MembershipStatus.INVITED, MembershipStatus.ACTIVE]},
        )
    return membership


# --- members --------------------------------------------------------------------------------------


def update_member(*, actor: User, membership: Membership, job_title: str, ends_at=None) -> Membership:
    require_seller_permission(actor=actor, seller=membership.seller, permission=MANAGE_MEMBERS)
    job_title = clean_name(job_title, field="job_title", required=False, max_length=100)
    with transaction.atomic():
        membership = _lock_membership(membership)
        require_may_act_on(actor=actor, membership=membership)
        if membership.status == MembershipStatus.REMOVED:
            raise Conflict(_("A removed member cannot be edited."), code="removed")
        if ends_at is not None and ends_at != membership.ends_at and ends_at <= timezone.now():
            raise InvalidInput(field="ends_at", message=_("The end date must be in the future."))
        old = {"job_title": membership.job_title, "ends_at": membership.ends_at}
        new = {"job_title": job_title, "ends_at": ends_at}
        changes = diff(old, new)
        if not changes:
            return membership
        membership.job_title = job_title
        membership.ends_at = ends_at
        membership.save(update_fields=["job_title", "ends_at"])
        if "ends_at" in changes:  # a job title cannot change permissions: the index is left alone
            hooks.membership_changed(membership)
        record_event(
            action=events.MEMBER_UPDATED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes=changes,
        )
    return membership


def suspend_member(*, actor: User, membership: Membership) -> Membership:
    """Suspend a member: access stops at once and every session of theirs ends."""
    return apply_suspension(
        actor=actor,
        membership=membership,
        authorize=lambda locked: require_may_act_on(actor=actor, membership=locked),
    )


def apply_suspension(
    *, actor: User | None, membership: Membership, authorize, reason: str = ""
) -> Membership:
    """The suspension itself. `authorize(membership)` runs once the member's row is locked and raises
    NotAllowed: `suspend_member` passes the one rule for acting on people; an access review's decision
    passes the reviewer's reach and that rule; the seller's due-date policy (actor None, the system) refuses
    the owner. Every other rule holds here: only an active member, sessions end, the index follows, one
    audit event (with `reason` when given)."""
    with transaction.atomic():
        membership = _lock_membership(membership)
        authorize(membership)
        if membership.status != MembershipStatus.ACTIVE:
            raise Conflict(_("Only an active member can be suspended."), code="not_active")
        membership.status = MembershipStatus.SUSPENDED
        membership.suspended_at = timezone.now()
        membership.save(update_fields=["status", "suspended_at"])
        end_sessions(membership.user)
        hooks.membership_changed(membership)
        changes = {"status": [MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]}
        if reason:
            changes["reason"] = [None, reason]
        record_event(
            action=events.MEMBER_SUSPENDED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes=changes,
        )
    return membership


def sign_out_everywhere(*, actor: User, membership: Membership) -> int:
    """End every browser session of a member at once; returns how many were open. Their API tokens are
    separate and keep working (they are revoked one by one)."""
    with transaction.atomic():
        membership = _lock_membership(membership)
        require_may_act_on(actor=actor, membership=membership)
        count = len(browser_sessions.open_sessions(membership.user))
        if not count:
            raise Conflict(
                _("%(name)s has no open sessions.") % {"name": membership.display_name}, code="no_sessions"
            )
        end_sessions(membership.user)
        record_event(
            action=events.MEMBER_SIGNED_OUT,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes={"open_sessions": [count, 0]},
        )
    return count


def reactivate_member(*, actor: User, membership: Membership) -> Membership:
    with transaction.atomic():
        membership = _lock_membership(membership)
        require_may_act_on(actor=actor, membership=membership)
        if membership.status != MembershipStatus.SUSPENDED:
            raise Conflict(_("Only a suspended member can be reactivated."), code="not_suspended")
        if membership.is_expired:
            raise Conflict(
                _("This member's access has reached its end date. Change the end date first."),
                code="expired",
            )
        membership.status = MembershipStatus.ACTIVE
        membership.suspended_at = None
        membership.expired_at = None
        membership.save(update_fields=["status", "suspended_at", "expired_at"])
        hooks.membership_changed(membership)
        record_event(
            action=events.MEMBER_REACTIVATED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes={"status": [MembershipStatus.SUSPENDED, MembershipStatus.ACTIVE]},
        )
    return membership


def remove_member(*, actor: User, membership: Membership) -> Membership:
    """Remove a member (or a service account) from the seller (see apply_removal)."""
    return apply_removal(
        actor=actor,
        membership=membership,
        authorize=lambda locked: require_may_act_on(actor=actor, membership=locked),
    )


def apply_removal(*, actor: User | None, membership: Membership, authorize, reason: str = "") -> Membership:
    """Remove a member (or a service account) from the seller. Leaving is complete, and each part is
    recorded: their open invitation links are withdrawn and every session of theirs ends (member.removed
    says how many of each), every API token is revoked (token.revoked, reason "member removed") and every
    assignment ends (assignment.revoked each). Ending the sessions changes the stamp that pending two-factor
    sign-ins and password-reset links are bound to, so those stop working too. The user stays: they may
    work for other sellers, and a reset link they ask for later gives them only those.
    `authorize(membership)` runs once the member's row is locked (see apply_suspension)."""
    with transaction.atomic():
        membership = _lock_membership(membership)
        authorize(membership)
        if membership.status == MembershipStatus.REMOVED:
            raise Conflict(_("This member has already been removed."), code="removed")
        old_status = membership.status
        now = timezone.now()
        open_invitations = _open_invitations(membership).update(revoked_at=now)
        membership.status = MembershipStatus.REMOVED
        membership.removed_at = now
        membership.save(update_fields=["status", "removed_at"])
        open_sessions = len(browser_sessions.open_sessions(membership.user))
        end_sessions(membership.user)
        hooks.membership_changed(membership)
        record_event(
            action=events.MEMBER_REMOVED,
            seller=membership.seller,
            actor=actor,
            target=membership,
            changes={
                "status": [old_status, MembershipStatus.REMOVED],
                **({"open_invitations": [open_invitations, 0]} if open_invitations else {}),
                **({"open_sessions": [open_sessions, 0]} if open_sessions else {}),
                **({"reason": [None, reason]} if reason else {}),
            },
        )
        _end_access_of_leaver(actor=actor, membership=membership)
    return membership


def _end_access_of_leaver(*, actor: User, membership: Membership) -> None:
    """Revoke the tokens and end the assignments of a removed membership, each audited: nothing of the
    old access is kept to come back if the person is invited again."""
    from .api_tokens import revoke_tokens_of_leaver

    revoke_tokens_of_leaver(actor=actor, membership=membership)
    hooks.membership_removed(membership=membership, actor=actor)


def transfer_ownership(*, actor: User, seller: Seller, new_owner: Membership) -> Membership:
    """Make an active person member the owner; the old owner stays as a member."""
    require_owner(actor=actor, seller=seller)
    with transaction.atomic():
        # Lock both rows in primary-key order, so two concurrent transfers cannot deadlock.
        locked = list(
            Membership.objects.select_for_update()
            .select_related("user", "seller")
            .filter(Q(kind=MembershipKind.OWNER) | Q(pk=new_owner.pk), seller=seller)
            .order_by("pk")
        )
        target = next((m for m in locked if m.pk == new_owner.pk), None)
        if target is None:
            raise NotFound()
        old_owner = next(m for m in locked if m.kind == MembershipKind.OWNER)
        if old_owner.user_id != actor.pk:
            raise NotAllowed()
        if target.pk == old_owner.pk:
            raise Conflict(_("You are already the owner."), code="already_owner")
        if target.kind != MembershipKind.MEMBER or not target.is_effective:
            raise Conflict(_("Ownership can only go to an active person member."), code="not_eligible")
        # The single-owner constraint is checked per statement: demote first, then promote.
        old_owner.kind = MembershipKind.MEMBER
        old_owner.save(update_fields=["kind"])
        target.kind = MembershipKind.OWNER
        target.ends_at = None
        target.save(update_fields=["kind", "ends_at"])
        hooks.ownership_transferred(seller=seller, old_owner=old_owner, new_owner=target, actor=actor)
        record_event(
            action=events.OWNERSHIP_TRANSFERRED,
            seller=seller,
            actor=actor,
            target=target,
            changes={"owner_user_id": [old_owner.user_id, target.user_id]},
        )
    return target


def switch_seller(*, user: User, seller_id) -> Seller:
    """Make another of the user's sellers the current one.
    The same NotFound for 'no such seller' and 'not yours'."""
    try:
        seller_id = int(seller_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with transaction.atomic():
        membership = (
            Membership.objects.effective()
            .select_related("seller")
            .filter(user=user, seller_id=seller_id)
            .first()
        )
        if membership is None:
            raise NotFound()
        if user.last_seller_id != membership.seller_id:
            User.objects.filter(pk=user.pk).update(last_seller=membership.seller)
            user.last_seller = membership.seller
            record_event(
                action=events.SELLER_SWITCHED, seller=membership.seller, actor=user, target=membership
            )
    return membership.seller


def expire_memberships(*, now=None) -> int:
    """Process memberships past their end date: suspend them, end their sessions, record it once.
    Access already stopped at the end date (every check compares it); this makes it visible."""
    now = now or timezone.now()
    count = 0
    due = Membership.objects.filter(
        status=MembershipStatus.ACTIVE, ends_at__lte=now, expired_at__isnull=True
    ).values_list("pk", flat=True)
    for membership_id in list(due[:1000]):
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update(skip_locked=True)
                .select_related("user", "seller")
                .filter(pk=membership_id, status=MembershipStatus.ACTIVE, ends_at__lte=now)
                .first()
            )
            if membership is None:
                continue
            membership.status = MembershipStatus.SUSPENDED
            membership.suspended_at = now
            membership.expired_at = now
            membership.save(update_fields=["status", "suspended_at", "expired_at"])
            end_sessions(membership.user)
            hooks.membership_changed(membership)
            record_event(
                action=events.MEMBER_EXPIRED,
                seller=membership.seller,
                actor=None,
                target=membership,
                changes={"status": [MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]},
            )
            count += 1
    return count


# --- passwords ------------------------------------------------------------------------------------


def reset_password(*, user: User, password: str) -> User:
    """Set a new password from a reset link. Every existing session ends (the auth hash changes)."""
    _validate_password(password, user, field="new_password1")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        password_policy.remember_password(user)
        record_event(action=events.PASSWORD_RESET, seller=None, actor=user, target=user)
    return user


def change_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise InvalidInput(field="old_password", message=_("Your current password is not correct."))
    _validate_password(new_password, user, field="new_password1")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        password_policy.remember_password(user)
        record_event(action=events.PASSWORD_CHANGED, seller=None, actor=user, target=user)
    return user


def sign_out_other_sessions(*, user: User, current_session_id: int | None) -> int:
    """Sign the person out of every other browser; returns how many other sessions were open. The caller
    keeps the current session with `update_session_auth_hash` and `browser_sessions.keep_current`."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        others = browser_sessions.other_open_sessions(user, current_session_id)
        end_sessions(user)
        record_event(
            action=events.SIGNED_OUT_ELSEWHERE,
            seller=None,
            actor=user,
            target=user,
            changes={"other_sessions": [len(others), 0]},
        )
    return len(others)


# --- profile --------------------------------------------------------------------------------------


def _save_profile(actor: User, new: dict) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        changes = diff({name: getattr(user, name) for name in new}, new)
        if not changes:
            return user
        for name, value in new.items():
            setattr(user, name, value)
        user.save(update_fields=list(changes))
        # A name is personal data: the event says that it changed, not what it was or became.
        if "display_name" in changes:
            changes["display_name"] = [None, None]
        record_event(action=events.PROFILE_UPDATED, seller=None, actor=user, target=user, changes=changes)
    return user


def update_profile(*, actor: User, display_name: str, preferred_language: str) -> User:
    """A person changes their own name and language (blank language: follow the browser)."""
    new = {
        "display_name": clean_name(display_name, field="display_name"),
        "preferred_language": _clean_language(preferred_language, "preferred_language", allow_blank=True),
    }
    return _save_profile(actor, new)


def set_preferred_language(*, actor: User, language: str) -> User:
    """The header language switcher: a signed-in person's choice follows them to every device."""
    return _save_profile(actor, {"preferred_language": _clean_language(language)})
