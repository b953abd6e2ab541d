"""Factories for every test, in one place."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import (
    Invitation,
    InvitationKind,
    Membership,
    MembershipKind,
    MembershipStatus,
    Seller,
    User,
)
from accounts.tokens import hash_token, new_token

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(DEFAULT_PASSWORD)


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Shop {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    seller = factory.SubFactory(SellerFactory)
    kind = MembershipKind.MEMBER
    status = MembershipStatus.ACTIVE
    activated_at = factory.LazyFunction(timezone.now)
    invited_name = factory.LazyAttribute(
        lambda membership: membership.user.display_name
    )  # as typed by the seller


def make_seller(name="Shop", owner_email=None):
    """A seller with an active owner, set up the way sign-up leaves it (role copies included)."""
    from accounts import hooks

    seller = SellerFactory(name=name)
    hooks.seller_created(seller)
    owner_user = UserFactory(**({"email": owner_email} if owner_email else {}))
    owner = MembershipFactory(user=owner_user, seller=seller, kind=MembershipKind.OWNER)
    hooks.membership_changed(owner)
    return seller, owner


def make_member(seller, **kwargs):
    from accounts import hooks

    membership = MembershipFactory(seller=seller, **kwargs)
    hooks.membership_changed(membership)
    return membership


def sent_invitation(membership, *, kind=InvitationKind.INVITATION, expires_in=timedelta(hours=72)):
    """An invitation as the sending task leaves it; returns (invitation, raw token)."""
    token = new_token()
    invitation = Invitation.objects.create(
        membership=membership,
        kind=kind,
        email=membership.user.email,
        token_hash=hash_token(token),
        expires_at=timezone.now() + expires_in,
        sent_at=timezone.now(),
        send_attempts=1,
    )
    return invitation, token


def full_width(text: str) -> str:
    """The text as a Chinese or Japanese keyboard in full-width mode types it: ASCII letters, digits and
    punctuation become their full-width forms (U+FF01 to U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
