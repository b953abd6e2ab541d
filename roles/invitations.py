"""Adding a sub-account with its access in one step: the invitation and its roles are one transaction, so
a refused role (more than the actor holds, a scope that does not fit) leaves no half-added member and sends
no e-mail (the e-mail is queued on commit)."""

from django.db import transaction

from accounts.services import invite_member

from . import selectors, services


def invite_member_with_roles(*, actor, seller, email, grants=(), **member_fields):
    """`grants`: dicts with role_id, scope_kind, market, stores, warehouses (ids), as the grant form gives."""
    with transaction.atomic():
        membership = invite_member(actor=actor, seller=seller, email=email, **member_fields)
        for grant in grants:
            services.grant_role(
                actor=actor,
                membership=membership,
                role=selectors.get_role_for_seller(seller, grant["role_id"]),
                scope_kind=grant["scope_kind"],
                market=grant.get("market") or None,
                stores=grant.get("stores") or (),
                warehouses=grant.get("warehouses") or (),
                # An end date the inviter typed wins over a role's default (a Technology partner's 90 days).
                **({"ends_at": member_fields["ends_at"]} if member_fields.get("ends_at") else {}),
            )
    return membership
