"""Writes for API tokens and service accounts.

A token belongs to one membership and acts with exactly that membership's permissions. The secret is
returned once, by `create_api_token`; only its SHA-256 hash is stored (the secret has 256 random bits, so a
plain hash is enough — no slow hash or salt is needed to resist guessing)."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events
from audit.services import record_event
from ozonseat.errors import Conflict, InvalidInput, NotAllowed

from . import hooks
from .authorization import MANAGE_TOKENS, get_effective_membership, member_has_seller_permission
from .cleaning import clean_name
from .models import ApiToken, Membership, MembershipKind, MembershipStatus, Seller, User

TOKEN_PREFIX = "ozs_"
VISIBLE_SECRET_CHARS = 8
MAX_TOKEN_LENGTH = 100
MAX_TOKEN_NAME_LENGTH = 100
# The last-used time is written at most this often per token, so a busy token does not write on each request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Service accounts get an address in the reserved .invalid domain (RFC 2606): no mail can ever reach it.
SERVICE_EMAIL_DOMAIN = "service.ozonseat.invalid"


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown to the caller once, never stored


def hash_api_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _require_actor_membership(actor: User, seller: Seller) -> Membership:
    membership = get_effective_membership(actor, seller)
    if membership is None:
        raise NotAllowed()
    return membership


def create_api_token(*, actor: User, membership: Membership, name: str, expires_at=None) -> CreatedToken:
    """A token for the actor's own membership (a personal token), or — for someone who may manage API
    tokens — for one of the seller's service accounts."""
    seller = membership.seller
    actor_membership = _require_actor_membership(actor, seller)
    own = actor_membership.pk == membership.pk
    if not own:
        if not member_has_seller_permission(actor_membership, MANAGE_TOKENS):
            raise NotAllowed()
        if membership.kind != MembershipKind.SERVICE:
            raise NotAllowed(_("Tokens can be created only for yourself or for a service account."))
    name = clean_name(name, max_length=MAX_TOKEN_NAME_LENGTH)
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(field="expires_at", message=_("The expiry must be in the future."))
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user", "seller").get(pk=membership.pk)
        )
        if membership.seller_id != seller.pk:
            raise NotAllowed()
        if not membership.is_effective:
            raise Conflict(_("Tokens can be created only for an active membership."), code="not_active")
        secret = _new_secret()
        token = ApiToken.objects.create(
            membership=membership,
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + VISIBLE_SECRET_CHARS],
            token_hash=hash_api_token(secret),
            created_by=actor,
            expires_at=expires_at,
        )
        record_event(
            action=events.TOKEN_CREATED,
            seller=seller,
            actor=actor,
            target=membership,
            changes={"token_id": [None, token.pk], "expires_at": [None, expires_at]},
        )
    return CreatedToken(token=token, secret=secret)


def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token: it stops working on the next request. Own tokens, or any with `tokens.manage`."""
    seller = token.membership.seller
    actor_membership = _require_actor_membership(actor, seller)
    if token.membership_id != actor_membership.pk and not member_has_seller_permission(
        actor_membership, MANAGE_TOKENS
    ):
        raise NotAllowed()
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("membership").get(pk=token.pk)
        if token.revoked_at is not None:
            raise Conflict(_("This token has already been revoked."), code="revoked")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            action=events.TOKEN_REVOKED,
            seller=seller,
            actor=actor,
            target=token.membership,
            changes={"token_id": [token.pk, token.pk], "revoked": [False, True]},
        )
    return token


def create_service_account(*, actor: User, seller: Seller, name: str, description: str = "") -> Membership:
    """A member that is a program: its own user with no password and an address no mail can reach; it
    signs in only with API tokens and gets roles like any member."""
    actor_membership = _require_actor_membership(actor, seller)
    if not member_has_seller_permission(actor_membership, MANAGE_TOKENS):
        raise NotAllowed()
    name = clean_name(name)
    description = clean_name(description, field="description", required=False, max_length=100)
    with transaction.atomic():
        user = User.objects.create_user(
            email=f"{uuid.uuid4().hex}@{SERVICE_EMAIL_DOMAIN}", display_name=name, password=None
        )
        now = timezone.now()
        membership = Membership.objects.create(
            user=user,
            seller=seller,
            kind=MembershipKind.SERVICE,
            status=MembershipStatus.ACTIVE,
            invited_by=actor,
            job_title=description,
            created_at=now,
            activated_at=now,
        )
        hooks.membership_changed(membership)
        record_event(
            action=events.SERVICE_ACCOUNT_CREATED,
            seller=seller,
            actor=actor,
            target=membership,
            changes={
                "kind": [None, MembershipKind.SERVICE],
                "status": [None, MembershipStatus.ACTIVE],
            },
        )
    return membership


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The token whose secret this is, if it works right now: not revoked, not expired, its membership
    active and within its end date, its user active. Loads membership, user and seller in the same query."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.usable(now)
        .select_related("membership__user", "membership__seller")
        .filter(token_hash=hash_api_token(secret))
        .first()
    )
    if token is None or not token.membership.is_effective or not token.membership.user.is_active:
        return None
    touch_last_used(token, now)
    return token


def touch_last_used(token: ApiToken, now) -> bool:
    """Record use at most once per LAST_USED_RESOLUTION: no write when the loaded value is recent, and a
    conditional UPDATE otherwise, so concurrent requests of one token write once between them."""
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > threshold:
        return False
    updated = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold))
        .update(last_used_at=now)
    )
    token.last_used_at = now
    return bool(updated)
