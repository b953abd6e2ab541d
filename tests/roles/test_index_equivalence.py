"""The group index answers exactly what the assignments say.

Random sequences of changes (grant, revoke, role edit, scope edit, suspend, reactivate, end date reached,
remove, store added / deactivated, warehouse added, role deleted with its holders moved) on a small seller;
after every step, for every user x object (the seller, every store and warehouse, active or not) x
permission of its level: `user.has_perm` / `user.get_all_permissions` (roles.backends over guardian's
group object permissions), guardian's `get_objects_for_user` (with use_groups, through
`selectors.objects_for_user` and raw) and DRF's `DjangoObjectPermissions` agree with `check_permissions`,
which reads the assignments, not the index. And `permissions_sync --check` is clean.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from rest_framework.permissions import DjangoObjectPermissions
from rest_framework.test import APIRequestFactory

from accounts import services as accounts_services
from accounts.models import Membership, MembershipStatus
from ozonseat.errors import ServiceError
from roles import catalog, selectors
from roles import services as roles_services
from roles.models import Assignment, Role, ScopeKind, Store, Warehouse
from tests.factories import make_member, make_seller
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROLE_KEYS = [
    "administrator",
    "sales",
    "customer_service",
    "warehouse_manager",
    "analyst",
    "courier_assembler",
    "financial_manager",
]
EDITABLE = ["orders.view", "orders.process", "finance.view", "warehouse.stock.view", "prices.edit"]


class _StorePermission(DjangoObjectPermissions):
    """DRF's object permissions as a view on stores would declare them for one permission."""

    def __init__(self, perm):
        self.perms_map = {method: [perm] for method in ("GET", "POST", "PUT", "PATCH", "DELETE")}


class _View:
    def __init__(self, model):
        self.queryset = model.objects.all()


def _drf_allows(user, django_perm, obj):
    model = type(obj)
    codename = django_perm.split(".", 1)[1]
    request = APIRequestFactory().post("/")
    request.user = user
    permission = _StorePermission(f"%(app_label)s.{codename}")
    try:
        return permission.has_object_permission(request, _View(model), obj)
    except Http404:
        return False


class IndexMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.seller, self.owner_membership = make_seller(name="Equivalence shop")
        owner = self.owner = self.owner_membership.user
        add_store = roles_services.add_store
        ru1 = add_store(actor=owner, seller=self.seller, name="RU 1", client_id="1", market="RU")
        add_store(actor=owner, seller=self.seller, name="RU 2", client_id="2", market="RU")
        kz1 = add_store(actor=owner, seller=self.seller, name="KZ 1", client_id="3", market="KZ")
        roles_services.add_warehouse(actor=owner, store=ru1, name="W1", kind="FBS")
        roles_services.add_warehouse(actor=owner, store=kz1, name="W2", kind="FBO")
        self.members = [make_member(self.seller) for _ in range(3)]
        self.counter = 10

    def teardown(self):
        try:
            assert_index_clean()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------------------

    def _role(self, key):
        return Role.objects.get(seller=self.seller, template_key=key)

    def _stores(self, active=True):
        queryset = Store.objects.filter(seller=self.seller).order_by("pk")
        return list(queryset.filter(is_active=True) if active else queryset)

    def _warehouses(self, active=True):
        queryset = Warehouse.objects.filter(seller=self.seller).select_related("store").order_by("pk")
        return list(queryset.filter(is_active=True, store__is_active=True) if active else queryset)

    def _member(self, pick):
        return Membership.objects.select_related("user", "seller").get(
            pk=self.members[pick % len(self.members)].pk
        )

    def _scope(self, kind, pick):
        if kind == ScopeKind.MARKET:
            return {"market": ["RU", "KZ", "BY"][pick % 3]}
        if kind == ScopeKind.STORES:
            stores = self._stores()
            return {"stores": [s for i, s in enumerate(stores) if (pick >> i) & 1] or stores[:1]}
        if kind == ScopeKind.WAREHOUSES:
            warehouses = self._warehouses()
            return {"warehouses": [w for i, w in enumerate(warehouses) if (pick >> i) & 1] or warehouses[:1]}
        return {}

    @staticmethod
    def _quietly(action):
        try:
            with transaction.atomic():
                action()
        except ServiceError:
            pass

    # --- changes -------------------------------------------------------------------------------------

    @rule(
        pick=st.integers(0, 63),
        role=st.sampled_from(ROLE_KEYS),
        kind=st.sampled_from([k.value for k in ScopeKind]),
        scope=st.integers(1, 63),
    )
    def grant(self, pick, role, kind, scope):
        member = self._member(pick)
        self._quietly(
            lambda: roles_services.grant_role(
                actor=self.owner,
                membership=member,
                role=self._role(role),
                scope_kind=kind,
                **self._scope(kind, scope),
            )
        )

    @rule(pick=st.integers(0, 63))
    def revoke(self, pick):
        assignments = list(Assignment.objects.filter(membership__seller=self.seller).order_by("pk"))
        if assignments:
            assignment = assignments[pick % len(assignments)]
            self._quietly(lambda: roles_services.revoke_assignment(actor=self.owner, assignment=assignment))

    @rule(role=st.sampled_from(ROLE_KEYS), permission=st.sampled_from(EDITABLE))
    def edit_role(self, role, permission):
        role = self._role(role)
        permissions = set(role.permissions) ^ {permission}
        self._quietly(
            lambda: roles_services.update_role(actor=self.owner, role=role, permissions=sorted(permissions))
        )

    @rule(pick=st.integers(0, 63), scope=st.integers(1, 63))
    def edit_scope(self, pick, scope):
        """A scope edit as a service does it: the assignment's market or chosen objects change, then the
        member is re-indexed in the same transaction."""
        assignments = list(
            Assignment.objects.filter(membership__seller=self.seller)
            .exclude(scope_kind=ScopeKind.SELLER)
            .select_related("membership")
            .order_by("pk")
        )
        if not assignments:
            return
        assignment = assignments[pick % len(assignments)]
        options = self._scope(assignment.scope_kind, scope)
        with transaction.atomic():
            if "market" in options:
                assignment.market = options["market"]
                assignment.save(update_fields=["market"])
            elif "stores" in options:
                assignment.stores.set(options["stores"])
            else:
                assignment.warehouses.set(options["warehouses"])
            roles_services.reindex_membership(membership=assignment.membership)

    @rule(pick=st.integers(0, 63), change=st.sampled_from(["suspend", "reactivate", "remove"]))
    def member_state(self, pick, change):
        member = self._member(pick)
        service = {
            "suspend": accounts_services.suspend_member,
            "reactivate": accounts_services.reactivate_member,
            "remove": accounts_services.remove_member,
        }[change]
        self._quietly(lambda: service(actor=self.owner, membership=member))

    @rule(pick=st.integers(0, 63))
    def end_date_reached(self, pick):
        """The end date passes: refused at once, though the periodic job has not run yet."""
        member = self._member(pick)
        Membership.objects.filter(pk=member.pk, status=MembershipStatus.ACTIVE).update(
            ends_at=timezone.now() - timedelta(seconds=1)
        )

    @rule()
    def expiry_job_runs(self):
        accounts_services.expire_memberships()

    @rule(market=st.sampled_from(["RU", "KZ", "BY"]))
    def add_store(self, market):
        self.counter += 1
        roles_services.add_store(
            actor=self.owner,
            seller=self.seller,
            name=f"S{self.counter}",
            client_id=str(self.counter),
            market=market,
        )

    @rule(pick=st.integers(0, 63))
    def add_warehouse(self, pick):
        stores = self._stores()
        self.counter += 1
        if stores:
            roles_services.add_warehouse(
                actor=self.owner, store=stores[pick % len(stores)], name=f"W{self.counter}", kind="FBS"
            )

    @rule(pick=st.integers(0, 63))
    def deactivate_store(self, pick):
        stores = self._stores()
        if len(stores) > 1:
            roles_services.deactivate_store(actor=self.owner, store=stores[pick % len(stores)])

    @rule(role=st.sampled_from(ROLE_KEYS), to=st.sampled_from(ROLE_KEYS))
    def delete_role_moving_holders(self, role, to):
        if role != to:
            self._quietly(
                lambda: roles_services.delete_role(
                    actor=self.owner, role=self._role(role), move_to=self._role(to)
                )
            )

    # --- the property --------------------------------------------------------------------------------

    @invariant()
    def guardian_answers_as_the_check(self):
        User = get_user_model()
        objects = [(catalog.SELLER, self.seller)]
        objects += [(catalog.STORE, s) for s in self._stores(active=False)]
        objects += [(catalog.WAREHOUSE, w) for w in self._warehouses(active=False)]
        memberships = Membership.objects.filter(seller=self.seller).order_by("pk")
        for membership in memberships:
            user = User.objects.get(pk=membership.user_id)  # as the next request loads it
            queries = [
                (permission.codename, None if level == catalog.SELLER else obj)
                for level, obj in objects
                for permission in catalog.all_permissions()
                if permission.level == level
            ]
            expected = {
                (r.permission, r.target.pk if r.target is not None else None)
                for r in selectors.check_permissions(user=user, seller=self.seller, queries=queries)
                if r.allowed
            }
            awaiting = membership.status == MembershipStatus.ACTIVE and not membership.is_effective
            for level, obj in objects:
                target = None if level == catalog.SELLER else obj.pk
                want = {
                    catalog.get(p).django_codename
                    for p, t in expected
                    if t == target and catalog.level_of(p) == level
                }
                got = User.objects.get(pk=user.pk).get_all_permissions(obj)
                assert {p.rsplit(".", 1)[-1] for p in got} == want, (membership.pk, level, obj.pk)
                # has_perm and DRF on one permission per object: held if any, else the first of its level
                held = sorted(want) or sorted(
                    p.django_codename for p in catalog.all_permissions() if p.level == level
                )
                django_perm = f"{'accounts' if level == catalog.SELLER else 'roles'}.{held[0]}"
                allowed = bool(want)
                assert user.has_perm(django_perm, obj) == allowed, (membership.pk, django_perm, obj.pk)
                assert _drf_allows(user, django_perm, obj) == allowed, (membership.pk, django_perm, obj.pk)
            for permission in catalog.all_permissions():
                if permission.level == catalog.SELLER:
                    continue
                model = Store if permission.level == catalog.STORE else Warehouse
                want = {t for p, t in expected if p == permission.codename}
                if awaiting:  # past the end date, before the job: the gate refuses, the groups remain
                    found = selectors.objects_for_user(user, self.seller, permission.codename)
                else:  # raw guardian: the groups alone
                    found = get_objects_for_user(
                        user,
                        permission.django_perm,
                        klass=model.objects.filter(seller=self.seller),
                        accept_global_perms=False,
                    )
                assert {o.pk for o in found} == want, (membership.pk, permission.codename)


def test_guardian_group_index_answers_exactly_as_the_assignments():
    run_state_machine_as_test(
        IndexMachine,
        settings=settings(
            max_examples=5,
            stateful_step_count=10,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
