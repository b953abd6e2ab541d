"""A seller with a regional team, the way access reviews meet one:

owner (writes in Chinese), an Administrator for the whole seller (reviews everyone but himself),
a KZ lead (reviews.run for the KZ market, writes in Russian), a KZ picker (one KZ warehouse),
an RU seller (the RU market), a service account with a token (chosen KZ store)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from accounts import api_tokens
from accounts.models import Seller, User
from roles import services as roles_services
from roles.models import Role
from tests.factories import make_member, make_seller

# A fixed moment: every schedule test passes `now` explicitly, never the date the tests run on.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Team:
    seller: object
    owner: object
    admin: object
    kz_lead: object
    kz_picker: object
    ru_seller: object
    service: object
    token_secret: str
    kz_store: object
    ru_store: object
    kz_warehouse: object
    lead_role: object

    def user(self, membership) -> User:
        return membership.user


def build_team(name="Silk Road", *, now=NOW) -> Team:
    """The whole team in one transaction, made due for a review (created 120 days ago) as its last step: a
    beat ticking meanwhile (the e2e tests run two, every second) sees no seller or the whole team, never
    opens a review of half a team."""
    with transaction.atomic():
        team = _build_team(name, now)
        Seller.objects.filter(pk=team.seller.pk).update(created_at=now - timedelta(days=120))
    team.seller.refresh_from_db()
    return team


def _build_team(name, now) -> Team:
    seller, owner = make_seller(name)
    Seller.objects.filter(pk=seller.pk).update(time_zone="Asia/Almaty")
    seller.refresh_from_db()
    User.objects.filter(pk=owner.user_id).update(
        preferred_language="zh-hans", last_login=now - timedelta(days=1)
    )
    actor = owner.user
    kz_store = roles_services.add_store(
        actor=actor, seller=seller, name="Almaty", client_id="100", market="KZ"
    )
    ru_store = roles_services.add_store(
        actor=actor, seller=seller, name="Moscow", client_id="200", market="RU"
    )
    kz_warehouse = roles_services.add_warehouse(actor=actor, store=kz_store, name="Almaty FBS", kind="FBS")
    lead_role = roles_services.create_role(
        actor=actor,
        seller=seller,
        name="Regional lead",
        # reviews.run, and what the team holds: a reviewer changes only the access of people whose every
        # permission they hold (roles.authority)
        permissions=[
            "reviews.run",
            *Role.objects.get(seller=seller, template_key="analyst").permissions,
            "warehouse.stock.view",
            "warehouse.shipments.manage",
        ],
    )

    def role(key):
        return Role.objects.get(seller=seller, template_key=key)

    admin = make_member(seller, user__last_login=now - timedelta(days=2))
    roles_services.grant_role(actor=actor, membership=admin, role=role("administrator"), scope_kind="seller")
    kz_lead = make_member(seller, user__preferred_language="ru", user__last_login=now - timedelta(days=3))
    roles_services.grant_role(
        actor=actor, membership=kz_lead, role=lead_role, scope_kind="market", market="KZ"
    )
    kz_picker = make_member(seller, user__last_login=now - timedelta(days=50))
    roles_services.grant_role(
        actor=actor,
        membership=kz_picker,
        role=role("courier_assembler"),
        scope_kind="warehouses",
        warehouses=[kz_warehouse],
    )
    ru_seller = make_member(seller, user__last_login=now - timedelta(days=1))
    roles_services.grant_role(
        actor=actor, membership=ru_seller, role=role("sales"), scope_kind="market", market="RU"
    )
    service = api_tokens.create_service_account(actor=actor, seller=seller, name="Picking app")
    roles_services.grant_role(
        actor=actor, membership=service, role=role("analyst"), scope_kind="stores", stores=[kz_store]
    )
    created = api_tokens.create_api_token(actor=actor, membership=service, name="picking")
    return Team(
        seller,
        owner,
        admin,
        kz_lead,
        kz_picker,
        ru_seller,
        service,
        created.secret,
        kz_store,
        ru_store,
        kz_warehouse,
        lead_role,
    )


@pytest.fixture
def team(db):
    return build_team()
