import pytest

from accounts.models import MembershipStatus
from tests.factories import make_member, make_seller


@pytest.fixture
def world(db):
    seller, owner = make_seller(name="Ozon Shop")
    analyst = make_member(seller, job_title="Analyst")
    clerk = make_member(seller, job_title="Clerk")
    invited = make_member(seller, status=MembershipStatus.INVITED)
    other_seller, other_owner = make_seller(name="Other Shop")
    return {
        "seller": seller,
        "owner": owner,
        "analyst": analyst,
        "clerk": clerk,
        "invited": invited,
        "other_owner": other_owner,
        "other_seller": other_seller,
    }
