"""Where account changes reach the other apps, called explicitly by accounts services inside their
transaction (no signals: bulk operations would skip them). The roles app keeps its permission index here."""


def seller_created(seller) -> None:
    from roles.services import set_up_seller_roles

    set_up_seller_roles(seller=seller)


def membership_changed(membership) -> None:
    from roles.services import reindex_membership

    reindex_membership(membership=membership)


def ownership_transferred(*, seller, old_owner, new_owner, actor) -> None:
    from roles.services import reindex_membership

    reindex_membership(membership=old_owner)
    reindex_membership(membership=new_owner)


def membership_removed(*, membership, actor) -> None:
    """A member left the seller: their assignments end, each recorded with the reason."""
    from roles.services import end_assignments

    from .models import RevocationReason

    end_assignments(actor=actor, membership=membership, reason=RevocationReason.MEMBER_REMOVED)
