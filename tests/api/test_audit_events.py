import csv
import io
import json

import pytest

from accounts import services
from audit.models import AuditEvent
from tests.api.conftest import assert_problem, url
from tests.factories import make_member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def history(seller, owner, other_seller):
    members = [make_member(seller) for _ in range(3)]
    for member in members:
        services.update_member(actor=owner, membership=member, job_title="=HYPERLINK(1)")
    services.suspend_member(actor=owner, membership=members[0])
    other, other_owner = other_seller
    services.update_member(actor=other_owner.user, membership=make_member(other), job_title="theirs")
    return members


def test_events_newest_first_with_cursor_pages_and_no_other_seller(owner_api, seller, history):
    ours = AuditEvent.objects.filter(seller_id=seller.pk).count()
    seen, page = [], owner_api.get(url(seller, "audit-events"), {"page_size": 2}).json()
    while True:
        seen += page["results"]
        if not page["next"]:
            break
        page = owner_api.get(page["next"].replace("http://testserver", "")).json()
    assert len(seen) == ours == len({event["id"] for event in seen})
    assert [event["id"] for event in seen] == sorted((event["id"] for event in seen), reverse=True)
    assert {e["id"] for e in seen} == set(
        AuditEvent.objects.filter(seller_id=seller.pk).values_list("id", flat=True)
    )


def test_filters(owner_api, seller, history):
    suspended = owner_api.get(url(seller, "audit-events"), {"action": "member.suspended"}).json()["results"]
    assert [e["target_id"] for e in suspended] == [history[0].pk]
    about = owner_api.get(
        url(seller, "audit-events"), {"target_type": "membership", "target_id": history[1].pk}
    )
    assert {e["action"] for e in about.json()["results"]} == {"member.updated"}
    assert_problem(owner_api.get(url(seller, "audit-events"), {"since": "yesterday"}), 400)
    assert_problem(owner_api.get(url(seller, "audit-events"), {"cursor": "garbage"}), 404)


def test_export_csv_and_jsonl_stream_only_this_sellers_events_with_safe_cells(owner_api, seller, history):
    ours = AuditEvent.objects.filter(seller_id=seller.pk).count()
    response = owner_api.get(url(seller, "audit-events/export"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == ours
    assert all(not row["changes"].startswith("=") for row in rows)
    response = owner_api.get(
        url(seller, "audit-events/export"), {"format": "jsonl", "action": "member.updated"}
    )
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(lines) == 3 and all(line["action"] == "member.updated" for line in lines)


def test_audit_needs_audit_view(plain_api, seller, other_seller, owner_api):
    assert_problem(plain_api.get(url(seller, "audit-events")), 403)
    assert_problem(plain_api.get(url(seller, "audit-events/export")), 403)
    assert_problem(owner_api.get(url(other_seller[0], "audit-events")), 404)


def test_me_lists_permissions_of_the_token_membership(owner_api, plain_api, seller):
    me = owner_api.get("/api/v1/me").json()
    assert me["memberships"][0]["seller_id"] == seller.pk
    assert "members.manage" in me["memberships"][0]["seller_permissions"]
    plain = plain_api.get("/api/v1/me").json()
    assert plain["memberships"][0]["seller_permissions"] == []
    assert plain["token_id"]
