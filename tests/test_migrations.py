"""The data steps of this change's migrations, run over rows as the previous schema left them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield  # whatever happened, the next test finds every migration applied
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(*targets):
    """The database and the historical models at these migrations (every app not named stays where it is:
    name each app whose tables the test writes, so its columns match the historical model)."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def test_names_typed_by_an_inviter_move_to_the_membership_they_were_typed_for():
    apps = migrate(("accounts", "0005_browser_sessions"))
    User, Seller, Membership = (apps.get_model("accounts", name) for name in ("User", "Seller", "Membership"))
    first, second = Seller.objects.create(name="A"), Seller.objects.create(name="B")
    invited = User.objects.create(email="x@example.com", display_name="Typed by A", password="!unusable")
    joined = User.objects.create(email="y@example.com", display_name="Own name", password="hash")
    robot = User.objects.create(email="r@service.ozonseat.invalid", display_name="ERP", password="!unusable")
    in_a = Membership.objects.create(user=invited, seller=first, status="invited")
    in_b = Membership.objects.create(user=invited, seller=second, status="invited")
    joined_a = Membership.objects.create(user=joined, seller=first, status="active")
    Membership.objects.create(user=robot, seller=first, kind="service", status="active")

    apps = migrate(("accounts", "0006_membership_invited_name"))
    Membership, User = apps.get_model("accounts", "Membership"), apps.get_model("accounts", "User")
    assert Membership.objects.get(pk=in_a.pk).invited_name == "Typed by A"
    assert Membership.objects.get(pk=in_b.pk).invited_name == ""  # B never saw A's name, and does not now
    assert Membership.objects.get(pk=joined_a.pk).invited_name == "Own name"
    assert User.objects.get(pk=invited.pk).display_name == ""  # never theirs: they never signed in
    assert User.objects.get(pk=joined.pk).display_name == "Own name"
    assert User.objects.get(pk=robot.pk).display_name == "ERP"


def test_clashing_names_are_numbered_before_the_constraints_arrive():
    apps = migrate(("accounts", "0005_browser_sessions"), ("roles", "0001_initial"))
    Seller = apps.get_model("accounts", "Seller")
    Store, Warehouse, Role = (apps.get_model("roles", name) for name in ("Store", "Warehouse", "Role"))
    seller = Seller.objects.create(name="Shop")
    store = Store.objects.create(seller=seller, name="Main", client_id="1", market="RU")
    Store.objects.create(seller=seller, name="MAIN", client_id="2", market="RU")
    Store.objects.create(seller=seller, name="main", client_id="3", market="KZ", is_active=False)
    for name in ("Khimki", "khimki", "Khimki"):
        Warehouse.objects.create(store=store, seller=seller, name=name, kind="FBS")
    Role.objects.create(seller=seller, name="Packer", permissions=[])
    Role.objects.create(seller=seller, name="packer", permissions=[])

    apps = migrate(("roles", "0002_unique_names_per_seller_and_store"))
    Store, Warehouse, Role = (apps.get_model("roles", name) for name in ("Store", "Warehouse", "Role"))
    assert list(Store.objects.order_by("pk").values_list("name", flat=True)) == ["Main", "MAIN (2)", "main"]
    assert list(Warehouse.objects.order_by("pk").values_list("name", flat=True)) == [
        "Khimki",
        "khimki (2)",
        "Khimki (3)",
    ]
    assert list(Role.objects.order_by("pk").values_list("name", flat=True)) == ["Packer", "packer (2)"]


def test_people_permissions_move_to_stores_and_whole_seller_holders_keep_them():
    """roles 0005: members.manage and audit.view become store permissions; a whole-seller holder holds them
    on every store afterwards, the old seller rows are gone, warehouses take their store's country."""
    apps = migrate(("accounts", "0009_access_review_policy"), ("roles", "0004_index_by_role_groups"))
    Seller, User, Membership = (apps.get_model("accounts", name) for name in ("Seller", "User", "Membership"))
    Store, Warehouse, Role, Assignment = (
        apps.get_model("roles", name) for name in ("Store", "Warehouse", "Role", "Assignment")
    )
    ContentType, Permission = (
        apps.get_model("contenttypes", "ContentType"),
        apps.get_model("auth", "Permission"),
    )
    seller_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="seller")
    Permission.objects.get_or_create(
        content_type=seller_type, codename="members_manage", name="members.manage"
    )
    seller = Seller.objects.create(name="Shop")
    owner = User.objects.create(email="owner@example.com", password="!x")
    Membership.objects.create(user=owner, seller=seller, kind="owner", status="active")
    lead_user = User.objects.create(email="lead@example.com", password="!x")
    lead = Membership.objects.create(user=lead_user, seller=seller, status="active")
    kz = Store.objects.create(seller=seller, name="KZ", client_id="2", market="KZ")
    almaty = Warehouse.objects.create(store=kz, seller=seller, name="Almaty", kind="FBS")
    role = Role.objects.create(seller=seller, name="People", permissions=["members.manage", "audit.view"])
    Assignment.objects.create(membership=lead, role=role, scope_kind="seller")

    # Through 0006, which rebuilds the index once for both (0005 runs before Role.default_days exists).
    migrate(("roles", "0006_ozon_cabinet_catalog"))
    from accounts.models import User as LiveUser
    from roles.models import Store as LiveStore
    from roles.models import Warehouse as LiveWarehouse

    assert not Permission.objects.filter(content_type=seller_type, codename="members_manage").exists()
    user = LiveUser.objects.get(pk=lead_user.pk)
    store = LiveStore.objects.get(pk=kz.pk)
    assert user.has_perm("roles.members_manage", store) and user.has_perm("roles.audit_view", store)
    assert not user.has_perm("roles.members_view", store)
    assert LiveWarehouse.objects.get(pk=almaty.pk).country == "KZ"
