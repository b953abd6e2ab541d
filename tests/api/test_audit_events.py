import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from audit import events, exports
from audit.models import AuditEvent
from audit.selectors import EventFilters, iter_event_batches, list_events
from ozonseat.api.roles_support import ROLES
from tests.api.conftest import assert_problem, client_with, url
from tests.audit.helpers import append
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
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # The export's own audit.exported event is committed before the first row: it comes last, oldest first.
    assert len(rows) == ours + 1
    assert rows[-1]["action"] == events.EXPORTED
    assert all(not row["changes"].startswith("=") for row in rows)
    response = owner_api.get(
        url(seller, "audit-events/export"), {"format": "jsonl", "action": "member.updated"}
    )
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(lines) == 3 and all(line["action"] == "member.updated" for line in lines)


def _api_pages(api, seller, params, key="next"):
    """Every page the API links to from its first page onwards, following `key`."""
    pages, page = [], api.get(url(seller, "audit-events"), params).json()
    while True:
        pages.append([event["id"] for event in page["results"]])
        if not page[key]:
            return pages, page
        page = api.get(page[key].replace("http://testserver", "")).json()


def _selector_ids(seller, filters):
    ids, cursor = [], None
    while True:
        page = list_events(seller, filters, cursor, page_size=3)
        ids += [event.pk for event in page.events]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.fixture
def tangled_history(seller, owner, history, monkeypatch):
    """The history plus events sharing one timestamp, so only the keyset's id tie-break orders them."""
    instant = timezone.now() - timedelta(minutes=5)
    monkeypatch.setattr("audit.services.timezone.now", lambda: instant)
    append(seller, 5, actor=owner)
    monkeypatch.undo()
    append(seller, 2, actor=history[1].user, action=events.PASSWORD_CHANGED)
    return instant


def test_the_api_and_the_viewer_selector_return_the_same_events_for_the_same_filters(
    owner_api, seller, owner, history, tangled_history
):
    tick = timedelta(microseconds=1)
    assert len(_selector_ids(seller, EventFilters(since=tangled_history, until=tangled_history + tick))) == 5
    # The last item: whether the export's own audit.exported event (the owner's, about the seller, now)
    # matches the filters, and so is the export's last line.
    cases = [
        ({}, EventFilters(), True),
        ({"action": "member.updated"}, EventFilters(action="member.updated"), False),
        ({"actor": owner.pk}, EventFilters(actor_id=owner.pk), True),
        (
            {"target_type": "membership", "target_id": history[0].pk},
            EventFilters(target_type="membership", target_id=history[0].pk),
            False,
        ),
        (
            {"since": tangled_history.isoformat(), "until": (tangled_history + tick).isoformat()},
            EventFilters(since=tangled_history, until=tangled_history + tick),
            False,
        ),
    ]
    for params, filters, includes_itself in cases:
        expected = _selector_ids(seller, filters)
        assert expected, params
        pages, _last = _api_pages(owner_api, seller, {**params, "page_size": 2})
        assert [pk for page in pages for pk in page] == expected, params
        exported = iter_event_batches(seller, filters, oldest_first=True)
        assert [event.pk for batch in exported for event in batch] == expected[::-1], params
        response = owner_api.get(url(seller, "audit-events/export"), {**params, "format": "jsonl"})
        lines = b"".join(response.streaming_content).decode().splitlines()
        itself = (
            [AuditEvent.objects.filter(action=events.EXPORTED).latest("id").pk] if includes_itself else []
        )
        assert [json.loads(line)["id"] for line in lines] == expected[::-1] + itself, params


def test_previous_links_walk_back_through_the_same_pages(owner_api, seller, history, tangled_history):
    forward, last = _api_pages(owner_api, seller, {"page_size": 3})
    assert len(forward) > 2 and last["previous"]
    backward = [[event["id"] for event in last["results"]]]
    page = last
    while page["previous"]:
        page = owner_api.get(page["previous"].replace("http://testserver", "")).json()
        backward.append([event["id"] for event in page["results"]])
        assert page["next"]
    assert backward[::-1] == forward


def test_a_page_costs_the_same_queries_for_few_or_many_events(owner_api, seller, owner, history):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert owner_api.get(url(seller, "audit-events"), {"page_size": 500}).status_code == 200
        return len(captured.captured_queries)

    append(seller, 1, actor=owner)  # names are looked up per kind of thing: the seller's among them
    queries()  # the token's first use also records last_used_at
    few = queries()
    append(seller, 60, actor=owner)
    assert queries() == few


def test_audit_needs_audit_view(plain_api, seller, other_seller, owner_api):
    assert_problem(plain_api.get(url(seller, "audit-events")), 403)
    assert_problem(plain_api.get(url(seller, "audit-events/export")), 403)
    assert_problem(owner_api.get(url(other_seller[0], "audit-events")), 404)
    assert_problem(owner_api.get(url(other_seller[0], "audit-events/export")), 404)
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


def test_the_api_export_is_recorded_with_its_token_format_and_filters(owner_api, owner_membership, seller):
    token = ApiToken.objects.get(membership=owner_membership)
    since = "2026-01-01T00:00:00+00:00"
    params = {"format": "csv", "action": "member.updated", "actor": owner_membership.user_id, "since": since}
    response = owner_api.get(url(seller, "audit-events/export"), params)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    exported = AuditEvent.objects.get(action=events.EXPORTED)
    assert (exported.seller_id, exported.actor_user_id, exported.actor_token_id) == (
        seller.pk,
        owner_membership.user_id,
        token.pk,
    )
    assert (exported.target_type, exported.target_id) == ("seller", seller.pk)
    assert exported.changes == {
        "format": [None, "csv"],
        "filters": [
            None,
            {"action": "member.updated", "actor_id": owner_membership.user_id, "since": since},
        ],
    }
    owner_api.get(url(seller, "audit-events/export"))  # format defaults to JSON Lines, no filters
    latest = AuditEvent.objects.filter(action=events.EXPORTED).latest("id")
    assert latest.changes == {"format": [None, "jsonl"], "filters": [None, {}]}


def test_a_refused_api_export_is_not_recorded(owner_api, seller):
    assert_problem(owner_api.get(url(seller, "audit-events/export"), {"format": "xlsx"}), 400)
    assert_problem(owner_api.get(url(seller, "audit-events/export"), {"since": "yesterday"}), 400)
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


def test_the_export_refuses_the_lists_paging_parameters_as_any_unknown_parameter(owner_api, seller, history):
    """An export has no pages: `cursor` and `page_size` are refused like any parameter it does not take
    (as the API refuses unknown parameters everywhere), rather than silently ignored."""
    cursor = owner_api.get(url(seller, "audit-events"), {"page_size": 1}).json()["next"].split("cursor=")[1]
    for params in ({"cursor": cursor}, {"page_size": 10}, {"colour": "red"}):
        body = assert_problem(owner_api.get(url(seller, "audit-events/export"), params), 400, "invalid")
        assert body["errors"] == {name: ["Unknown field."] for name in params}
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


def test_the_dashboard_and_the_api_send_each_export_format_as_the_same_content_type(client, seller, owner):
    client.force_login(owner)
    api = client_with()
    api.force_login(owner)
    expected = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
    for export_format, content_type in expected.items():
        dashboard = client.get(reverse("audit:export", args=[seller.pk]), {"format": export_format})
        rest = api.get(url(seller, "audit-events/export"), {"format": export_format})
        assert (dashboard.status_code, rest.status_code) == (200, 200)
        assert dashboard["Content-Type"] == rest["Content-Type"] == content_type
        assert dashboard["Content-Disposition"].endswith(f'.{export_format}"')


def test_the_dashboard_and_the_api_record_the_same_export_event(client, seller, owner):
    """Same filters through both doors: the same audit.exported changes. The browser-session API call has
    no token, so no actor token."""
    params = {"format": "jsonl", "action": "member.updated", "actor": owner.pk}
    client.force_login(owner)
    assert client.get(reverse("audit:export", args=[seller.pk]), params).status_code == 200
    api = client_with()
    api.force_login(owner)
    assert api.get(url(seller, "audit-events/export"), params).status_code == 200
    dashboard, rest = AuditEvent.objects.filter(action=events.EXPORTED).order_by("id")
    assert dashboard.changes == rest.changes
    assert rest.changes["filters"] == [None, {"action": "member.updated", "actor_id": owner.pk}]
    assert (dashboard.actor_user_id, rest.actor_user_id) == (owner.pk, owner.pk)
    assert (dashboard.actor_token_id, rest.actor_token_id) == (None, None)


def test_the_actor_filter_takes_anyone_who_was_a_member_removed_ones_too(owner_api, seller, owner):
    member = make_member(seller)
    theirs = append(seller, 2, actor=member.user)
    services.remove_member(actor=owner, membership=member)
    for path in ("audit-events", "audit-events/export"):
        response = owner_api.get(url(seller, path), {"actor": member.user_id})
        assert response.status_code == 200, path
    listed = owner_api.get(url(seller, "audit-events"), {"actor": member.user_id}).json()["results"]
    assert [event["id"] for event in listed] == [event.pk for event in reversed(theirs)]


def test_me_lists_permissions_of_the_token_membership(owner_api, plain_api, seller):
    me = owner_api.get("/api/v1/me").json()
    assert me["memberships"][0]["seller_id"] == seller.pk
    assert "roles.manage" in me["memberships"][0]["seller_permissions"]
    plain = plain_api.get("/api/v1/me").json()
    assert plain["memberships"][0]["seller_permissions"] == []
    assert plain["token_id"]


@pytest.fixture
def store_history(seller, owner, other_seller):
    """Two stores of the seller (one with a warehouse, one deactivated) and one of another seller."""
    from roles import services as roles_services

    north = roles_services.add_store(actor=owner, seller=seller, name="North", client_id="1001", market="RU")
    roles_services.add_warehouse(actor=owner, store=north, name="Main", kind="FBS")
    south = roles_services.add_store(actor=owner, seller=seller, name="South", client_id="1002", market="KZ")
    roles_services.deactivate_store(actor=owner, store=south)
    other, other_owner = other_seller
    theirs = roles_services.add_store(
        actor=other_owner.user, seller=other, name="Theirs", client_id="1001", market="RU"
    )
    return north, south, theirs


needs_roles = pytest.mark.skipif(not ROLES, reason="stores come with the roles app")


@needs_roles
def test_the_store_filter_lists_and_exports_exactly_that_stores_events(owner_api, seller, store_history):
    north, south, _theirs = store_history
    for store in (north, south):  # a deactivated store's events stay findable
        expected = list(
            AuditEvent.objects.filter(seller_id=seller.pk, store_id=store.pk)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)
        )
        assert expected
        listed = owner_api.get(url(seller, "audit-events"), {"store": store.pk}).json()["results"]
        assert [event["id"] for event in listed] == expected
        response = owner_api.get(url(seller, "audit-events/export"), {"store": store.pk, "format": "jsonl"})
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert [json.loads(line)["id"] for line in lines] == expected[::-1]
        exported = AuditEvent.objects.filter(action=events.EXPORTED).latest("id")
        assert exported.changes["filters"] == [None, {"store_id": store.pk}]
    actions = {
        event["action"]
        for event in owner_api.get(url(seller, "audit-events"), {"store": north.pk}).json()["results"]
    }
    assert actions == {"store.added", "warehouse.added"}


@needs_roles
def test_every_event_carries_its_store_or_null_in_the_list_and_both_exports(owner_api, seller, store_history):
    north, south, _theirs = store_history

    def stores_of_events():
        return dict(AuditEvent.objects.filter(seller_id=seller.pk).values_list("id", "store_id"))

    expected = stores_of_events()
    assert {north.pk, south.pk, None} <= set(expected.values())
    listed = owner_api.get(url(seller, "audit-events"), {"page_size": 500}).json()["results"]
    assert {event["id"]: event["store_id"] for event in listed} == expected
    response = owner_api.get(url(seller, "audit-events/export"), {"format": "jsonl"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert {line["id"]: line["store_id"] for line in lines} == stores_of_events()
    response = owner_api.get(url(seller, "audit-events/export"), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # The same fields, in the same order, as the dashboard's export.
    assert list(rows[0]) == list(lines[0]) == list(listed[0]) == list(exports.COLUMNS)
    assert {int(row["id"]): int(row["store_id"]) if row["store_id"] else None for row in rows} == (
        stores_of_events()
    )


@needs_roles
def test_another_sellers_store_and_an_unknown_store_are_refused_alike(owner_api, seller, store_history):
    _north, _south, theirs = store_history
    missing = theirs.pk + 1000
    for path in ("audit-events", "audit-events/export"):
        bodies = [
            assert_problem(owner_api.get(url(seller, path), {"store": store_id}), 400, "invalid")
            for store_id in (theirs.pk, missing)
        ]
        assert bodies[0]["errors"] == bodies[1]["errors"] == {"store": ["Not found."]}
        assert assert_problem(owner_api.get(url(seller, path), {"store": "north"}), 400)["errors"].keys() == {
            "store"
        }
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()
