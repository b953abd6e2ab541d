"""What a seller sees of a person it invites: until they join, the name the seller typed itself; never the
name the person chose or another seller typed, their sign-ins elsewhere, or their global user id.

The rule (Membership.display_name): before the person accepts, the seller sees the name it typed; once they
have joined, the person's own name — theirs to set, and shared with the seller by joining it."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Membership, MembershipStatus, User
from tests.api.conftest import client_with, token_for, url
from tests.factories import make_member, make_seller, sent_invitation

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def world():
    """Seller A invites li@example.com, who already works for seller B under her own name."""
    seller_a, owner_a = make_seller(name="Shop A")
    seller_b, _owner_b = make_seller(name="Shop B")
    person = make_member(
        seller_b, user__email="li@example.com", user__display_name="Li Wei (Shop B boss)"
    ).user
    User.objects.filter(pk=person.pk).update(last_login=timezone.now(), preferred_language="zh-hans")
    membership = services.invite_member(
        actor=owner_a.user, seller=seller_a, email="LI@example.com", display_name="Xiao Li"
    )
    return {"seller": seller_a, "owner": owner_a, "person": person, "membership": membership}


def page(client, world, name, *args):
    client.force_login(world["owner"].user)
    response = client.get(reverse(name, args=[world["seller"].pk, *args]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_member_list_and_page_show_the_typed_name_not_the_persons_own(client, world):
    membership = world["membership"]
    assert membership.display_name == "Xiao Li"
    for html in (
        page(client, world, "accounts:members"),
        page(client, world, "accounts:member", membership.pk),
        page(client, world, "dashboard:overview"),
    ):
        assert "Xiao Li" in html
        assert "Shop B boss" not in html


def test_the_member_page_hides_sign_ins_and_language_set_elsewhere(client, world):
    html = page(client, world, "accounts:member", world["membership"].pk)
    profile = html[html.index('aria-labelledby="about"') :]
    profile = profile[: profile.index("</section>")]
    assert "Status" in profile and "Last sign-in" not in profile and "简体中文" not in profile


def test_searching_or_sorting_never_reveals_the_persons_own_name(client, world):
    client.force_login(world["owner"].user)
    members = reverse("accounts:members", args=[world["seller"].pk])
    assert "Xiao Li" not in client.get(members, {"q": "boss"}).content.decode()
    assert "Xiao Li" in client.get(members, {"q": "xiao"}).content.decode()
    api = client_with(token_for(world["owner"]))
    assert api.get(url(world["seller"], "members"), {"search": "boss"}).json()["count"] == 0


def test_the_api_shows_the_typed_name_and_no_user_id(world):
    api = client_with(token_for(world["owner"]))
    response = api.post(
        url(world["seller"], "members"), {"email": "li2@example.com", "display_name": "Typed"}, format="json"
    )
    invited = response.json()
    assert set(invited["user"]) == {"email", "display_name"} and invited["user"]["display_name"] == "Typed"
    assert invited["invited_by_member_id"] == world["owner"].pk and "invited_by_id" not in invited
    listed = api.get(url(world["seller"], "members")).json()["results"]
    read = api.get(url(world["seller"], f"members/{world['membership'].pk}")).json()
    for body in (*listed, read):
        assert set(body["user"]) == {"email", "display_name"}
        assert "Shop B boss" not in json.dumps(body, ensure_ascii=False)
    assert read["user"]["display_name"] == "Xiao Li"


def test_after_joining_the_seller_sees_the_persons_own_name(client, world):
    client.force_login(world["person"])
    _invitation, token = sent_invitation(world["membership"])
    services.accept_invitation(token=token, signed_in_user=world["person"])
    membership = Membership.objects.get(pk=world["membership"].pk)
    assert membership.has_joined and membership.display_name == "Li Wei (Shop B boss)"
    html = page(client, world, "accounts:member", membership.pk)
    assert "Li Wei (Shop B boss)" in html and "Last sign-in" in html


def test_a_new_person_keeps_no_name_until_they_choose_one(client, db):
    seller, owner = make_seller()
    membership = services.invite_member(
        actor=owner.user, seller=seller, email="new@example.com", display_name="Picker Anna"
    )
    assert membership.user.display_name == ""  # theirs to set, not the inviter's
    _invitation, token = sent_invitation(membership)
    accept = client.get(reverse("accounts:accept_invitation", args=[token]), follow=True)
    assert accept.context["form"].initial["display_name"] == "Picker Anna"
    client.post(
        reverse("accounts:accept_invitation", args=["accept"]),
        {"display_name": "Anna Smirnova", "password": PASSWORD, "password_again": PASSWORD},
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.display_name == membership.user.display_name == "Anna Smirnova"


def test_one_seller_never_sees_what_another_typed_before_the_person_joins(db):
    seller_a, owner_a = make_seller(name="A")
    seller_b, owner_b = make_seller(name="B")
    in_a = services.invite_member(
        actor=owner_a.user, seller=seller_a, email="x@example.com", display_name="Ivan A"
    )
    in_b = services.invite_member(
        actor=owner_b.user, seller=seller_b, email="x@example.com", display_name="Ivan B"
    )
    assert in_a.user_id == in_b.user_id
    assert Membership.objects.get(pk=in_a.pk).display_name == "Ivan A"
    assert Membership.objects.get(pk=in_b.pk).display_name == "Ivan B"


def test_the_invitation_greets_the_person_by_their_own_name_or_the_typed_one(world, outbox):
    from accounts.emails import deliver_invitation

    invitation = world["membership"].invitations.get()
    deliver_invitation(invitation_id=invitation.pk)
    assert "Li Wei (Shop B boss)" in outbox[-1].body  # to the person themselves
    seller, owner = make_seller()
    membership = services.invite_member(
        actor=owner.user, seller=seller, email="n@example.com", display_name="Nina"
    )
    deliver_invitation(invitation_id=membership.invitations.get().pk)
    assert "Hello Nina," in outbox[-1].body


def test_tokens_name_their_creator_by_member_id(world):
    api = client_with(token_for(world["owner"]))
    tokens = api.get(url(world["seller"], "tokens")).json()
    assert tokens and all(t["created_by_member_id"] == world["owner"].pk for t in tokens)
    assert all("created_by_id" not in t for t in tokens)


def test_the_check_endpoint_does_not_hand_out_user_ids(world):
    member = make_member(world["seller"])
    api = client_with(token_for(world["owner"]))
    response = api.post(
        url(world["seller"], "check"),
        {"checks": [{"member": member.pk, "permission": "members.manage"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["user"] is None
