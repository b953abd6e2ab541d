"""Every name and e-mail address a person types goes through the one cleaner: each service that stores one
refuses invisible characters (bidi controls, zero-width and other format characters) with the same clear
message, on the right field, and writes nothing; the dashboard and the API show that refusal."""

import pytest
from django.urls import reverse

from accounts import api_tokens
from accounts import services as accounts_services
from accounts.models import Membership, MembershipStatus, User
from audit.models import AuditEvent
from ozonseat.errors import InvalidInput
from roles import services as roles_services
from roles.models import Role, Store, Warehouse
from tests.api.conftest import client_with, token_for, url
from tests.factories import DEFAULT_PASSWORD, full_width, make_member, make_seller, sent_invitation

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "محمد ‮abc" displays as "محمد cba"
PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def place():
    seller, owner_membership = make_seller(name="Shop")
    owner = owner_membership.user
    store = roles_services.add_store(actor=owner, seller=seller, name="North", client_id="1001", market="RU")
    warehouse = roles_services.add_warehouse(actor=owner, store=store, name="Main", kind="FBS")
    member = make_member(seller, job_title="Picker")
    service_account = api_tokens.create_service_account(actor=owner, seller=seller, name="ERP")
    role = Role.objects.get(seller=seller, template_key="courier_assembler")
    invited = make_member(seller, status=MembershipStatus.INVITED)
    User.objects.filter(pk=invited.user_id).update(password="!unusable")
    _invitation, token = sent_invitation(invited)
    return {
        "seller": seller,
        "owner": owner,
        "store": store,
        "warehouse": warehouse,
        "member": member,
        "service_account": service_account,
        "role": role,
        "token": token,
    }


def settings_of(seller, **changes):
    return {
        "name": seller.name,
        "default_language": seller.default_language,
        "time_zone": seller.time_zone,
        "invitation_lifetime_hours": seller.invitation_lifetime_hours,
        "require_two_factor": seller.require_two_factor,
        "access_review_interval_days": seller.access_review_interval_days,
    } | changes


# (what is named, field, call(place, text)): every service that stores a name a person typed.
NAMED = [
    (
        "sign-up: person",
        "display_name",
        lambda p, text: accounts_services.sign_up_seller(
            email="new@example.com", password=PASSWORD, display_name=text, seller_name="Tea"
        ),
    ),
    (
        "sign-up: seller",
        "seller_name",
        lambda p, text: accounts_services.sign_up_seller(
            email="new@example.com", password=PASSWORD, display_name="Li", seller_name=text
        ),
    ),
    (
        "invitation: person",
        "display_name",
        lambda p, text: accounts_services.invite_member(
            actor=p["owner"], seller=p["seller"], email="new@example.com", display_name=text
        ),
    ),
    (
        "invitation: job title",
        "job_title",
        lambda p, text: accounts_services.invite_member(
            actor=p["owner"], seller=p["seller"], email="new@example.com", display_name="Li", job_title=text
        ),
    ),
    (
        "acceptance: person",
        "display_name",
        lambda p, text: accounts_services.accept_invitation(
            token=p["token"], signed_in_user=None, display_name=text, password=PASSWORD
        ),
    ),
    (
        "profile: person",
        "display_name",
        lambda p, text: accounts_services.update_profile(
            actor=p["owner"], display_name=text, preferred_language=""
        ),
    ),
    (
        "member: job title",
        "job_title",
        lambda p, text: accounts_services.update_member(
            actor=p["owner"], membership=p["member"], job_title=text
        ),
    ),
    (
        "seller settings: seller",
        "name",
        lambda p, text: accounts_services.update_seller_settings(
            actor=p["owner"], seller=p["seller"], **settings_of(p["seller"], name=text)
        ),
    ),
    (
        "token",
        "name",
        lambda p, text: api_tokens.create_api_token(
            actor=p["owner"], membership=p["owner"].memberships.get(), name=text
        ),
    ),
    (
        "service account",
        "name",
        lambda p, text: api_tokens.create_service_account(actor=p["owner"], seller=p["seller"], name=text),
    ),
    (
        "service account: description",
        "description",
        lambda p, text: api_tokens.create_service_account(
            actor=p["owner"], seller=p["seller"], name="Bot", description=text
        ),
    ),
    (
        "store",
        "name",
        lambda p, text: roles_services.add_store(
            actor=p["owner"], seller=p["seller"], name=text, client_id="2002", market="KZ"
        ),
    ),
    (
        "store: rename",
        "name",
        lambda p, text: roles_services.rename_store(actor=p["owner"], store=p["store"], name=text),
    ),
    (
        "warehouse",
        "name",
        lambda p, text: roles_services.add_warehouse(
            actor=p["owner"], store=p["store"], name=text, kind="FBO"
        ),
    ),
    (
        "warehouse: rename",
        "name",
        lambda p, text: roles_services.rename_warehouse(
            actor=p["owner"], warehouse=p["warehouse"], name=text
        ),
    ),
    (
        "role",
        "name",
        lambda p, text: roles_services.create_role(
            actor=p["owner"], seller=p["seller"], name=text, permissions=["orders.view"]
        ),
    ),
    (
        "role: description",
        "description",
        lambda p, text: roles_services.create_role(
            actor=p["owner"], seller=p["seller"], name="Viewer", description=text, permissions=["orders.view"]
        ),
    ),
    (
        "role: copy",
        "name",
        lambda p, text: roles_services.clone_role(actor=p["owner"], role=p["role"], name=text),
    ),
    (
        "role: rename",
        "name",
        lambda p, text: roles_services.update_role(actor=p["owner"], role=p["role"], name=text),
    ),
]


def written():
    return (
        AuditEvent.objects.count(),
        sorted(User.objects.values_list("pk", "display_name", "password")),
        sorted(Membership.objects.values_list("pk", "status", "job_title")),
        sorted(Store.objects.values_list("pk", "name")),
        sorted(Warehouse.objects.values_list("pk", "name")),
        sorted(Role.objects.values_list("pk", "name", "description")),
    )


@pytest.mark.parametrize(("what", "field", "call"), NAMED, ids=[what for what, _f, _c in NAMED])
@pytest.mark.parametrize("character", [RLO, "\u2067", "\u200b", "\ufeff"], ids=lambda c: f"U+{ord(c):04X}")
def test_every_stored_name_refuses_invisible_characters_and_writes_nothing(
    place, what, field, call, character
):
    before = written()
    with pytest.raises(InvalidInput) as refused:
        call(place, f"محمد {character}abc")
    assert list(refused.value.errors) == [field]
    assert f"U+{ord(character):04X}" in str(refused.value.message)
    assert written() == before


@pytest.mark.parametrize(("what", "field", "call"), NAMED, ids=[what for what, _f, _c in NAMED])
def test_every_stored_name_keeps_a_right_to_left_name_as_typed(place, what, field, call):
    call(place, "  محمد   علی ")
    assert written()  # it was stored: the cleaner refuses controls, not scripts


@pytest.mark.parametrize(
    "call",
    [
        lambda p, email: accounts_services.sign_up_seller(
            email=email, password=PASSWORD, display_name="Li", seller_name="Tea"
        ),
        lambda p, email: accounts_services.invite_member(
            actor=p["owner"], seller=p["seller"], email=email, display_name="Li"
        ),
    ],
    ids=["sign-up", "invitation"],
)
def test_an_address_with_a_zero_width_space_is_refused_not_made_a_look_alike_user(place, call):
    User.objects.create_user(email="admin@x.test", password=PASSWORD)
    before = written()
    with pytest.raises(InvalidInput) as refused:
        call(place, "admin@x.test\u200b")
    assert list(refused.value.errors) == ["email"] and "U+200B" in str(refused.value.message)
    assert written() == before
    assert User.objects.filter(email__startswith="admin@x.test").count() == 1


def test_an_address_typed_in_full_width_letters_is_the_same_person(place):
    existing = User.objects.create_user(email="li@example.com", password=PASSWORD)
    membership = accounts_services.invite_member(
        actor=place["owner"],
        seller=place["seller"],
        email=full_width("li@example.com"),
        display_name="Li",
    )
    assert membership.user_id == existing.pk


def test_the_warehouse_form_shows_the_refusal(client, place):
    client.force_login(place["owner"])
    response = client.post(
        reverse("roles:store", args=[place["seller"].pk, place["store"].pk]),
        {"warehouse-name": f"North {RLO}FBS", "warehouse-kind": "FBS"},
    )
    assert response.status_code == 200
    assert "U+202E" in " ".join(response.context["warehouse_form"].errors["name"])
    assert not Warehouse.objects.filter(name__contains=RLO).exists()


def test_the_api_answers_400_with_the_field_error(place):
    api = client_with(token_for(place["owner"].memberships.get()))
    response = api.post(
        url(place["seller"], "members"),
        {"email": "admin@x.test\u200b", "display_name": "Admin"},
        format="json",
    )
    assert response.status_code == 400 and "U+200B" in response.json()["errors"]["email"][0]
    response = api.post(
        url(place["seller"], "roles"), {"name": f"Boss{RLO}", "permissions": ["orders.view"]}, format="json"
    )
    assert response.status_code == 400 and "U+202E" in response.json()["errors"]["name"][0]


def test_signing_in_with_an_invisible_character_in_the_address_says_so(client, place):
    response = client.post(
        reverse("accounts:login"), {"username": place["owner"].email + "\u200b", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    assert "U+200B" in " ".join(response.context["form"].errors["username"])


def test_signing_in_with_the_address_in_full_width_letters_works(client, place):
    owner = place["owner"]
    owner.email = "li@example.com"
    owner.save(update_fields=["email"])
    response = client.post(
        reverse("accounts:login"),
        {"username": full_width("li@example.com"), "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
