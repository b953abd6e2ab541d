"""Names a seller tells apart by: two active warehouses of a store, two active stores of a seller and two
roles of a seller never read the same — not in another case, not in full-width letters, not in another
language — even when two requests race; the refusal is a field error, never a 500."""

import contextlib

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from ozonseat.errors import InvalidInput
from roles import services
from roles.models import Role, Store, Warehouse
from roles.role_templates import TEMPLATES
from tests.api.conftest import client_with, token_for, url
from tests.concurrency import race
from tests.factories import full_width
from tests.roles.conftest import World

pytestmark = [pytest.mark.postgres]


def refusal(call) -> str:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert list(caught.value.errors) == ["name"]
    return str(caught.value.message)


# --- warehouses and stores ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Moscow FBS", "moscow fbs", " MOSCOW   FBS ", full_width("Moscow FBS")])
def test_a_store_cannot_have_two_warehouses_of_the_same_name(world, name):
    message = refusal(
        lambda: services.add_warehouse(actor=world.owner, store=world.ru1, name=name, kind="FBO")
    )
    assert message == "This store already has a warehouse with this name."
    assert Warehouse.objects.filter(store=world.ru1).count() == 2


def test_renaming_a_warehouse_to_a_name_its_store_has_is_refused(world):
    message = refusal(
        lambda: services.rename_warehouse(actor=world.owner, warehouse=world.ru1_fbo, name="MOSCOW FBS")
    )
    assert message == "This store already has a warehouse with this name."
    world.ru1_fbo.refresh_from_db()
    assert world.ru1_fbo.name == "Moscow FBO"


def test_another_store_or_a_deactivated_warehouse_may_carry_the_name(world):
    services.add_warehouse(actor=world.owner, store=world.kz1, name="Moscow FBS", kind="FBS")
    services.deactivate_warehouse(actor=world.owner, warehouse=world.ru1_fbs)
    again = services.add_warehouse(actor=world.owner, store=world.ru1, name="Moscow FBS", kind="FBS")
    assert again.is_active


def test_a_seller_cannot_have_two_active_stores_of_the_same_name(world):
    message = refusal(
        lambda: services.add_store(
            actor=world.owner, seller=world.seller, name="ru ONE", client_id="9", market="RU"
        )
    )
    assert message == "This seller already has a store with this name."
    assert "already has a store with this name" in refusal(
        lambda: services.rename_store(actor=world.owner, store=world.ru2, name="RU one")
    )
    services.deactivate_store(actor=world.owner, store=world.ru1)
    services.add_store(actor=world.owner, seller=world.seller, name="RU one", client_id="9", market="RU")


def test_the_database_refuses_what_slips_past_the_service(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Warehouse.objects.create(store=world.ru1, seller=world.seller, name="MOSCOW fbs", kind="FBS")
    with pytest.raises(IntegrityError), transaction.atomic():
        Store.objects.create(seller=world.seller, name="Ru One", client_id="77", market="RU")
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(seller=world.seller, name="COURIER / ASSEMBLER", permissions=["orders.view"])


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_additions_of_one_warehouse_name_add_it_once():
    world = World()
    results = race(
        *(
            lambda name=name: services.add_warehouse(
                actor=world.owner, store=world.ru2, name=name, kind="FBS"
            )
            for name in ("Kazan", "KAZAN", "kazan")
        )
    )
    added = [r for r in results if isinstance(r, Warehouse)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(added) == 1 and len(refused) == 2, results
    assert Warehouse.objects.filter(store=world.ru2).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_fast_api_posts_of_one_warehouse_name_answer_201_and_400():
    world = World()
    secret = token_for(world.owner_membership)
    path = url(world.seller, f"stores/{world.ru2.pk}/warehouses")

    def post():
        return client_with(secret).post(path, {"name": "Kazan", "kind": "FBS"}, format="json")

    statuses = sorted(response.status_code for response in race(post, post))
    assert statuses == [201, 400]
    assert Warehouse.objects.filter(store=world.ru2).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_roles_of_one_name_are_created_once():
    world = World()
    results = race(
        *(
            lambda name=name: services.create_role(
                actor=world.owner, seller=world.seller, name=name, permissions=["orders.view"]
            )
            for name in ("Night shift", "NIGHT SHIFT")
        )
    )
    assert sorted(type(r).__name__ for r in results) == ["InvalidInput", "Role"], results


def test_the_store_page_shows_the_duplicate_as_a_field_error(client, world):
    client.force_login(world.owner)
    response = client.post(
        reverse("roles:store", args=[world.seller.pk, world.ru1.pk]),
        {"warehouse-name": "moscow fbs", "warehouse-kind": "FBS"},
    )
    assert response.status_code == 200
    assert response.context["warehouse_form"].errors["name"] == [
        "This store already has a warehouse with this name."
    ]


# --- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "name"),
    [("zh-hans", "快递员 / 拣货员"), ("ru", "Курьер / Сборщик"), ("en", "courier / assembler")],
)
def test_a_role_cannot_take_a_built_in_roles_name_in_any_language(world, language, name):
    with translation.override(language):
        shown = str(world.role("courier_assembler").display_name)
    assert shown.casefold() == name.casefold()
    for interface_language in ("en", "ru", "zh-hans"):  # whatever the language of the one creating it
        with translation.override(interface_language):
            refusal(
                lambda: services.create_role(
                    actor=world.owner, seller=world.seller, name=name, permissions=["orders.view"]
                )
            )
    assert Role.objects.filter(seller=world.seller).count() == len(TEMPLATES)


def test_the_refusal_names_the_role_it_clashes_with(world):
    with translation.override("en"):
        message = refusal(
            lambda: services.create_role(
                actor=world.owner, seller=world.seller, name="快递员 / 拣货员", permissions=["orders.view"]
            )
        )
    assert message == (
        "The role “Courier / Assembler” is called “快递员 / 拣货员” in another language. Choose another name."
    )
    with translation.override("zh-hans"):
        message = refusal(
            lambda: services.clone_role(actor=world.owner, role=world.role("sales"), name="快递员 / 拣货员")
        )
    assert message == "同名角色已存在。"


def test_a_renamed_built_in_role_frees_its_translated_names_and_renaming_back_is_refused(world):
    picker = world.role("courier_assembler")
    services.update_role(actor=world.owner, role=picker, name="Packer")
    custom = services.create_role(
        actor=world.owner, seller=world.seller, name="快递员 / 拣货员", permissions=["orders.view"]
    )
    with translation.override("zh-hans"):
        names = sorted(str(role) for role in Role.objects.filter(seller=world.seller))
    assert names.count("快递员 / 拣货员") == 1 and custom.name == "快递员 / 拣货员"
    # Renamed back to its English name, the copy would show as 快递员 / 拣货员 again beside the custom role.
    refusal(lambda: services.update_role(actor=world.owner, role=picker, name="Courier / Assembler"))


def test_every_role_in_the_list_reads_differently_in_every_language(world):
    for name in (
        "快递员 / 拣货员",
        "Курьер / Сборщик",
        "COURIER / ASSEMBLER",
        "Analyst (READ-ONLY)",
        "财务经理",
    ):
        with contextlib.suppress(InvalidInput):
            services.create_role(
                actor=world.owner, seller=world.seller, name=name, permissions=["orders.view"]
            )
    for language in ("en", "ru", "zh-hans"):
        with translation.override(language):
            shown = [str(role).casefold() for role in Role.objects.filter(seller=world.seller)]
        assert len(shown) == len(set(shown)), (language, shown)


def test_the_api_answers_400_for_a_role_named_like_a_built_in_one(world):
    response = client_with(token_for(world.owner_membership), HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        url(world.seller, "roles"), {"name": "快递员 / 拣货员", "permissions": ["orders.view"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["name"] == ["同名角色已存在。"]
