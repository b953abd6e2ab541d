"""Writes for API tokens and service accounts.

A token belongs to one membership and acts with exactly that membership's permissions. The secret is
returned once, by `create_api_token`; only its SHA-256 hash is stored (the secret has 256 random bits, so a
plain hash is enough — no slow hash or salt is needed to resist guessing)."""

import functools
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
from ozonseat.prepared import PreparedQuery, bare_instance

from . import hooks
from .authorization import (
    MANAGE_TOKENS,
    get_effective_membership,
    member_has_seller_permission,
    require_may_act_on,
)
from .cleaning import clean_name
from .models import (
    ApiToken,
    Membership,
    MembershipKind,
    MembershipStatus,
    RevocationReason,
    Seller,
    TwoFactorDevice,
    User,
)

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
    tokens — for one of the seller's service accounts whose every permission they hold themselves (a token
    acts with its account's rights: minting one for a more powerful account would be an escalation)."""
    seller = membership.seller
    actor_membership = _require_actor_membership(actor, seller)
    own = actor_membership.pk == membership.pk
    if not own:
        if not member_has_seller_permission(actor_membership, MANAGE_TOKENS):
            raise NotAllowed(permission=MANAGE_TOKENS)
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
        if not own:
            require_may_act_on(actor=actor, membership=membership, permission=MANAGE_TOKENS)
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
    """Revoke a token: it stops working on the next request. Own tokens; with `tokens.manage`, those of
    members the actor may act on (roles.authority)."""
    seller = token.membership.seller
    actor_membership = _require_actor_membership(actor, seller)
    own = token.membership_id == actor_membership.pk
    if not own and not member_has_seller_permission(actor_membership, MANAGE_TOKENS):
        raise NotAllowed(permission=MANAGE_TOKENS)
    with transaction.atomic():
        if not own:
            membership = Membership.objects.select_for_update().select_related("user", "seller")
            require_may_act_on(
                actor=actor, membership=membership.get(pk=token.membership_id), permission=MANAGE_TOKENS
            )
        token = ApiToken.objects.select_for_update().select_related("membership").get(pk=token.pk)
        if token.revoked_at is not None:
            raise Conflict(_("This token has already been revoked."), code="revoked")
        _revoke(token, actor=actor, reason=RevocationReason.REVOKED, now=timezone.now())
    return token


def _revoke(token: ApiToken, *, actor, reason: str, now) -> None:
    token.revoked_at = now
    token.revocation_reason = reason
    token.save(update_fields=["revoked_at", "revocation_reason"])
    record_event(
        action=events.TOKEN_REVOKED,
        seller=token.membership.seller_id,
        actor=actor,
        target=token.membership,
        changes={"token_id": [token.pk, token.pk], "revoked": [False, True], "reason": [None, reason]},
    )


def revoke_tokens_of_leaver(*, actor, membership: Membership) -> int:
    """Revoke every token of a member who leaves the seller, expired ones included (a revoked token never
    works again, so a person invited back gets none of them back). Runs in the caller's transaction, which
    has locked the membership and checked the actor; one token.revoked event per token."""
    now = timezone.now()
    tokens = ApiToken.objects.select_for_update().filter(membership=membership, revoked_at__isnull=True)
    revoked = 0
    for token in tokens.order_by("pk"):
        token.membership = membership
        _revoke(token, actor=actor, reason=RevocationReason.MEMBER_REMOVED, now=now)
        revoked += 1
    return revoked


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
    active and within its end date, its user active. One SQL query, read fresh on every request (nothing
    is cached, so a revocation, suspension or removal is refused by the very next request): the token, its
    membership, user and seller, and whether the user has a confirmed second factor (kept on the token as
    `two_factor_confirmed`, for the seller's two-factor rule)."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = _load_usable_token(hash_api_token(secret), now)
    if token is None or not token.membership.is_effective or not token.membership.user.is_active:
        return None
    touch_last_used(token, now)
    return token


class _TokenQuery:
    """The token lookup as one hand-written JOIN, built once per process from the models' own columns,
    and prepared once per connection (ozonseat.prepared). The ORM would spend longer compiling the
    equivalent select_related query than the database spends answering it; the rows are turned into model
    instances with the fields' own database converters."""

    def __init__(self):
        from django.db import connection

        self.models = [ApiToken, Membership, User, Seller]
        aliases = ["t", "m", "u", "s"]
        quote = connection.ops.quote_name
        self.parts = []  # (model, attnames, slice, converters)
        columns, start = [], 0
        for model, alias in zip(self.models, aliases, strict=True):
            fields = model._meta.concrete_fields
            columns += [f"{alias}.{quote(field.column)}" for field in fields]
            converters = []
            for index, field in enumerate(fields):
                column = field.get_col(alias)
                found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if found:
                    converters.append((index, column, found))
            self.parts.append(
                (model, [f.attname for f in fields], slice(start, start + len(fields)), converters)
            )
            start += len(fields)
        table = {model: quote(model._meta.db_table) for model in [*self.models, TwoFactorDevice]}
        self.sql = (
            f"SELECT {', '.join(columns)}, EXISTS (SELECT 1 FROM {table[TwoFactorDevice]} d "  # noqa: S608
            f"WHERE d.user_id = m.user_id AND d.confirmed_at IS NOT NULL) "
            f"FROM {table[ApiToken]} t "
            f"JOIN {table[Membership]} m ON m.id = t.membership_id "
            f"JOIN {table[User]} u ON u.id = m.user_id "
            f"JOIN {table[Seller]} s ON s.id = m.seller_id "
            f"WHERE t.token_hash = %s AND t.revoked_at IS NULL "
            f"AND (t.expires_at IS NULL OR t.expires_at > %s)"
        )
        self.query = PreparedQuery(self.sql, ["text", "timestamptz"])

    def load(self, token_hash: str, now) -> ApiToken | None:
        from django.db import connection

        with connection.cursor() as cursor:
            self.query.execute(cursor, [token_hash, now])
            row = cursor.fetchone()
        if row is None:
            return None
        instances = []
        for model, attnames, columns, converters in self.parts:
            values = list(row[columns])
            for index, column, found in converters:
                for converter in found:
                    values[index] = converter(values[index], column, connection)
            instances.append(
                bare_instance(model, dict(zip(attnames, values, strict=True)), db=connection.alias)
            )
        token, membership, user, seller = instances
        membership.user = user
        membership.seller = seller
        token.membership = membership
        token.two_factor_confirmed = bool(row[-1])
        return token


@functools.cache
def _token_query() -> _TokenQuery:
    return _TokenQuery()  # built on first use, when the models are loaded


def _load_usable_token(token_hash: str, now) -> ApiToken | None:
    return _token_query().load(token_hash, now)


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
