import pytest

from accounts.models import MembershipStatus
from tests.factories import make_member, make_seller


@pytest.fixture
def world(db):
    """Two sellers. In the first: an owner, a read-only analyst (the shipped "Analyst" role and a custom
    "Auditor" role holding audit.view and members.view, both on the whole seller: every view permission,
    no manage one), a picker limited to one warehouse, an invited person; one store with two warehouses."""
    from roles import services as roles_services
    from roles.models import Role

    seller, owner = make_seller(name="Ozon Shop")
    analyst = make_member(seller, job_title="Analyst")
    clerk = make_member(seller, job_title="Clerk")
    invited = make_member(seller, status=MembershipStatus.INVITED)
    store = roles_services.add_store(
        actor=owner.user, seller=seller, name="Moscow store", client_id="123456", market="RU"
    )
    khimki = roles_services.add_warehouse(actor=owner.user, store=store, name="Khimki", kind="FBS")
    podolsk = roles_services.add_warehouse(actor=owner.user, store=store, name="Podolsk", kind="FBS")
    roles = {role.template_key: role for role in Role.objects.filter(seller=seller)}
    roles_services.grant_role(
        actor=owner.user, membership=analyst, role=roles["analyst"], scope_kind="seller"
    )
    # audit.view, and members.view: reading people's pages is a permission of its own (issue 14)
    auditor = roles_services.create_role(
        actor=owner.user, seller=seller, name="Auditor", permissions=["audit.view", "members.view"]
    )
    roles_services.grant_role(actor=owner.user, membership=analyst, role=auditor, scope_kind="seller")
    picking = roles_services.grant_role(
        actor=owner.user,
        membership=clerk,
        role=roles["courier_assembler"],
        scope_kind="warehouses",
        warehouses=[khimki.pk],
    )
    from accounts import api_tokens

    erp = api_tokens.create_service_account(actor=owner.user, seller=seller, name="ERP")
    service_token = api_tokens.create_api_token(actor=owner.user, membership=erp, name="ERP sync").token
    other_seller, other_owner = make_seller(name="Other Shop")
    from reviews import opening

    review = opening.start_review(actor=owner.user, seller=seller)
    from onboarding import services as onboarding_services

    member_import = onboarding_services.upload_import(
        actor=owner.user, seller=seller, file_name="team.csv", content=b"E-mail,Name\nnew@example.com,New\n"
    )
    return {
        "member_import": member_import,
        "review": review,
        "review_item": review.items.get(membership=clerk),
        "seller": seller,
        "owner": owner,
        "analyst": analyst,
        "clerk": clerk,
        "invited": invited,
        "store": store,
        "khimki": khimki,
        "podolsk": podolsk,
        "roles": roles,
        "auditor": auditor,
        "picking": picking,
        "erp": erp,
        "service_token": service_token,
        "other_owner": other_owner,
        "other_seller": other_seller,
    }
