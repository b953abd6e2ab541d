"""Adding a sub-account with its access in one step: the invitation and its roles are one transaction, so
a refused role (more than the actor holds, a scope that does not fit) leaves no half-added member and sends
no e-mail (the e-mail is queued on commit)."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.authorization import require_seller_permission
from accounts.services import invite_member
from ozonseat.errors import NotAllowed

from . import catalog, selectors, services
from .authority import Holdings


def invite_member_with_roles(*, actor, seller, email, grants=(), **member_fields):
    """`grants`: dicts with role_id, scope_kind, market, stores, warehouses (ids), as the grant form gives.
    A lead holding members.manage for a market or chosen stores invites only into it: at least one role,
    each at a scope within theirs (every grant is checked by `grant_role`, with the new member's access
    as it will be); a member with no role is invited by whole-seller holders only."""

    def authorize():
        actor_membership = require_seller_permission(
            actor=actor, seller=seller, permission=catalog.MEMBERS_MANAGE
        )
        if not grants and not Holdings(actor_membership).holds_everywhere(catalog.MEMBERS_MANAGE):
            raise NotAllowed(
                _(
                    "You manage sub-accounts only in part of the seller: give the new sub-account a role "
                    "within it when you invite them."
                ),
                code="needs_role",
                permission=catalog.MEMBERS_MANAGE,
            )

    with transaction.atomic():
        membership = invite_member(
            actor=actor, seller=seller, email=email, authorize=authorize, **member_fields
        )
        for grant in grants:
            services.grant_role(
                actor=actor,
                membership=membership,
                role=selectors.get_role_for_seller(seller, grant["role_id"]),
                scope_kind=grant["scope_kind"],
                market=grant.get("market") or None,
                stores=grant.get("stores") or (),
                warehouses=grant.get("warehouses") or (),
                joining=True,
                # An end date the inviter typed wins over a role's default (a Technology partner's 90 days).
                **({"ends_at": member_fields["ends_at"]} if member_fields.get("ends_at") else {}),
            )
    return membership
