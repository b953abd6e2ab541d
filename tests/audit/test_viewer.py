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
from accounts.models import User
from audit import events
from audit.describe import describe_events
from audit.models import AuditEvent
from audit.selectors import EventFilters, list_events
from tests.audit.helpers import append
from tests.factories import UserFactory, make_member, make_seller


@pytest.fixture
def li_and_ivan(seller, owner):
    User.objects.filter(pk=owner.pk).update(display_name="Li Wei")
    owner.refresh_from_db()
    ivan = make_member(seller, user=UserFactory(display_name="Ivan Petrov"))
    services.suspend_member(actor=owner, membership=ivan)
    return owner, ivan


def test_events_read_as_sentences_with_names(client, seller, li_and_ivan):
    owner, _ivan = li_and_ivan
    client.force_login(owner)
    response = client.get(reverse("audit:events", args=[seller.pk]))
    assert response.status_code == 200
    assert "Li Wei suspended Ivan Petrov" in response.content.decode()


def test_a_person_erased_later_reads_as_deleted(seller, li_and_ivan):
    _owner, ivan = li_and_ivan
    User.objects.filter(pk=ivan.user_id).update(display_name="", email="")
    page = list_events(seller, EventFilters(action=events.MEMBER_SUSPENDED))
    assert describe_events(page.events)[0].text == "Li Wei suspended a deleted user"


def test_the_page_costs_the_same_queries_for_few_or_many_events(client, seller, owner):
    client.force_login(owner)
    url = reverse("audit:events", args=[seller.pk])
    client.get(url)
    members = [make_member(seller) for _ in range(2)]
    services.suspend_member(actor=owner, membership=members[0])
    append(seller, 1, actor=owner)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for member in [make_member(seller) for _ in range(6)] + members[1:]:
        services.suspend_member(actor=owner, membership=member)
    append(seller, 10, actor=members[0].user)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["rows"] and len(response.context["rows"]) > 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_keyset_pages_return_every_event_exactly_once_even_with_equal_timestamps(seller, owner, monkeypatch):
    instant = timezone.now() - timedelta(hours=1)
    monkeypatch.setattr("audit.services.timezone.now", lambda: instant)
    append(seller, 25, actor=owner)  # 25 events in the same microsecond
    monkeypatch.undo()
    append(seller, 20, actor=owner)
    expected = list(
        AuditEvent.objects.filter(seller_id=seller.pk)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    seen, cursor, pages = [], None, 0
    while True:
        page = list_events(seller, None, cursor, page_size=7)
        seen += [event.pk for event in page.events]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert pages == -(-len(expected) // 7)


def test_the_viewer_follows_older_links_through_every_event(client, seller, owner):
    append(seller, 120, actor=owner)
    client.force_login(owner)
    url = reverse("audit:events", args=[seller.pk])
    seen, next_query = [], ""
    while True:
        response = client.get(f"{url}?{next_query}")
        seen += [row.event.pk for row in response.context["rows"]]
        next_query = response.context["next_query"]
        if not next_query:
            break
    assert sorted(seen) == sorted(AuditEvent.objects.filter(seller_id=seller.pk).values_list("pk", flat=True))
    assert len(seen) == len(set(seen))


def test_a_tampered_cursor_shows_the_first_page(client, seller, owner):
    client.force_login(owner)
    response = client.get(reverse("audit:events", args=[seller.pk]), {"cursor": "not-a-cursor"})
    assert response.status_code == 200 and response.context["is_first_page"] is False


@pytest.fixture
def varied_log(seller, owner):
    """Events of two people, two actions, two stores, two days; and another seller's events."""
    ivan = make_member(seller, user=UserFactory(display_name="Ivan Petrov"))
    append(seller, 3, actor=owner, store=501)
    append(seller, 2, actor=ivan.user, store=502)
    append(seller, 2, actor=ivan.user, action=events.PASSWORD_CHANGED)
    other, other_owner = make_seller(name="Other")
    append(other, 4, actor=other_owner.user, store=501)
    return ivan


@pytest.mark.parametrize(
    ("filters", "expected_count"),
    [
        ({}, 7),
        ({"actor_id": "IVAN"}, 4),
        ({"action": events.PASSWORD_CHANGED}, 2),
        ({"store_id": 501}, 3),
        ({"store_id": 502, "actor_id": "IVAN"}, 2),
        ({"target_type": "seller", "target_id": "SELLER"}, 7),
        ({"target_type": "membership"}, 0),
    ],
)
def test_filters_select_exactly_the_matching_events_of_this_seller(
    seller, varied_log, filters, expected_count
):
    values = {
        key: {"IVAN": varied_log.user_id, "SELLER": seller.pk}.get(value, value)
        for key, value in filters.items()
    }
    page = list_events(seller, values)
    assert len(page.events) == expected_count
    assert {event.seller_id for event in page.events} <= {seller.pk}
    if "store_id" in values:
        assert {event.store_id for event in page.events} == {values["store_id"]}


def test_the_date_range_uses_whole_days_in_the_sellers_time_zone(seller, owner, monkeypatch):
    seller.time_zone = "Asia/Shanghai"
    seller.save()
    three_days_ago = timezone.now() - timedelta(days=3)
    monkeypatch.setattr("audit.services.timezone.now", lambda: three_days_ago)
    old = append(seller, 2, actor=owner)
    monkeypatch.undo()
    append(seller, 3, actor=owner)
    import zoneinfo

    day = three_days_ago.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    filters = EventFilters.for_days(since=day, until=day, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert [event.pk for event in list_events(seller, filters).events] == [old[1].pk, old[0].pk]


def _export(client, seller, export_format, **params):
    response = client.get(reverse("audit:export", args=[seller.pk]), {"format": export_format, **params})
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def test_csv_export_contains_exactly_the_filtered_events_and_is_recorded(client, seller, owner, varied_log):
    client.force_login(owner)
    body = _export(client, seller, "csv", actor=varied_log.user_id, store=502)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    expected = AuditEvent.objects.filter(seller_id=seller.pk, actor_user_id=varied_log.user_id, store_id=502)
    assert sorted(int(row["id"]) for row in rows) == sorted(expected.values_list("pk", flat=True))
    assert {row["actor"] for row in rows} == {"Ivan Petrov"}
    exported = AuditEvent.objects.get(action=events.EXPORTED)
    assert (exported.seller_id, exported.actor_user_id) == (seller.pk, owner.pk)
    assert exported.changes["format"] == [None, "csv"]
    assert exported.changes["filters"] == [None, {"actor_id": varied_log.user_id, "store_id": 502}]


def test_jsonl_export_contains_exactly_the_filtered_events(client, seller, owner, varied_log):
    client.force_login(owner)
    body = _export(client, seller, "jsonl", action=events.PASSWORD_CHANGED)
    records = [json.loads(line) for line in body.splitlines()]
    expected = AuditEvent.objects.filter(seller_id=seller.pk, action=events.PASSWORD_CHANGED).order_by("-id")
    assert [record["id"] for record in records] == list(expected.values_list("pk", flat=True))
    assert all(record["hash"] and record["description"] for record in records)


def test_an_export_larger_than_one_batch_streams_every_event(client, seller, owner, monkeypatch):
    monkeypatch.setattr("audit.selectors.EXPORT_BATCH", 7)
    append(seller, 30, actor=owner)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        body = _export(client, seller, "jsonl", action=events.SELLER_UPDATED)
    ids = [json.loads(line)["id"] for line in body.splitlines()]
    assert len(ids) == len(set(ids)) == 30
    pages = [query for query in queries.captured_queries if 'FROM "audit_auditevent"' in query["sql"]]
    assert len(pages) == 5  # 30 events in batches of 7


def test_csv_cells_cannot_carry_spreadsheet_formulas(client, seller, owner):
    from django.db import transaction

    from audit.context import update_context
    from audit.services import record_event

    update_context(user_agent='=HYPERLINK("http://evil")')
    try:
        with transaction.atomic():
            record_event(action=events.SELLER_UPDATED, seller=seller, actor=owner)
    finally:
        update_context(user_agent="")
    client.force_login(owner)
    body = _export(client, seller, "csv", action=events.SELLER_UPDATED)
    assert "'=HYPERLINK" in body


def test_an_unknown_export_format_is_refused_and_not_recorded(client, seller, owner):
    client.force_login(owner)
    response = client.get(reverse("audit:export", args=[seller.pk]), {"format": "xlsx"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


def test_record_export_is_the_one_export_event_with_the_token_when_there_is_one(seller, owner):
    from accounts.api_tokens import create_api_token
    from accounts.models import Membership
    from audit.services import record_export
    from ozonseat.errors import InvalidInput, NotAllowed

    token = create_api_token(
        actor=owner, membership=Membership.objects.get(seller=seller, user=owner), name="tool"
    ).token
    filters = EventFilters(action=events.MEMBER_SUSPENDED, store_id=7)
    event = record_export(actor=owner, seller=seller, export_format="jsonl", filters=filters, token=token)
    assert (event.action, event.actor_user_id, event.actor_token_id) == (events.EXPORTED, owner.pk, token.pk)
    assert event.changes == {
        "format": [None, "jsonl"],
        "filters": [None, {"action": events.MEMBER_SUSPENDED, "store_id": 7}],
    }
    assert (
        record_export(actor=owner, seller=seller, export_format="csv", filters=EventFilters()).actor_token_id
        is None
    )
    with pytest.raises(InvalidInput):
        record_export(actor=owner, seller=seller, export_format="xlsx", filters=EventFilters())
    with pytest.raises(NotAllowed):
        record_export(
            actor=make_member(seller).user, seller=seller, export_format="csv", filters=EventFilters()
        )
    assert AuditEvent.objects.filter(action=events.EXPORTED).count() == 2


@pytest.mark.parametrize("name", ["audit:events", "audit:export"])
def test_a_member_without_the_audit_permission_gets_403(client, seller, name):
    member = make_member(seller)
    client.force_login(member.user)
    assert client.get(reverse(name, args=[seller.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


@pytest.mark.parametrize("name", ["audit:events", "audit:export"])
def test_another_sellers_log_answers_404(client, seller, owner, name):
    other, other_owner = make_seller(name="Other")
    append(other, 2, actor=other_owner.user)
    client.force_login(owner)
    response = client.get(reverse(name, args=[other.pk]))
    assert response.status_code == 404


def test_the_nav_links_the_audit_log_for_those_allowed_only(client, seller, owner):
    client.force_login(owner)
    members_url = reverse("accounts:members", args=[seller.pk])
    assert reverse("audit:events", args=[seller.pk]) in client.get(members_url).content.decode()
    member = make_member(seller)
    client.force_login(member.user)
    page = client.get(members_url)
    if page.status_code == 200:
        assert reverse("audit:events", args=[seller.pk]) not in page.content.decode()


def test_the_store_column_comes_from_store_argument_target_or_changes(seller, owner):
    from django.db import transaction

    from audit.services import record_event

    class Warehouse:  # the shape of roles.Warehouse: a model with a store_id
        pk = 9

        class _meta:
            model_name = "warehouse"

        store_id = 77

    with transaction.atomic():
        explicit = record_event(action=events.SELLER_UPDATED, seller=seller, actor=owner, store=55)
        by_target = record_event(action=events.SELLER_UPDATED, seller=seller, actor=owner, target=Warehouse())
        by_change = record_event(
            action=events.SELLER_UPDATED, seller=seller, actor=owner, changes={"store_id": [55, 66]}
        )
    assert (explicit.store_id, by_target.store_id, by_change.store_id) == (55, 77, 66)
    assert (by_target.target_type, by_target.target_id) == ("warehouse", 9)
    assert [event.pk for event in list_events(seller, {"store_id": 55}).events] == [explicit.pk]


def test_invalid_filters_show_errors_and_no_events_rather_than_everything(client, seller, owner):
    append(seller, 3, actor=owner)
    client.force_login(owner)
    url = reverse("audit:events", args=[seller.pk])
    response = client.get(url, {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["form"].errors
    export = client.get(reverse("audit:export", args=[seller.pk]), {"format": "csv", "actor": "999999"})
    assert export.status_code == 400
    assert not AuditEvent.objects.filter(action=events.EXPORTED).exists()


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Li Wei suspended Ivan Petrov"),
        ("ru", "Li Wei приостановил(а) доступ пользователя Ivan Petrov"),  # noqa: RUF001 (Russian text)
        ("zh-hans", "Li Wei 停用了 Ivan Petrov"),
    ],
)
def test_each_event_reads_in_the_viewers_language(seller, li_and_ivan, language, sentence):
    from django.utils import translation

    page = list_events(seller, {"action": events.MEMBER_SUSPENDED})
    with translation.override(language):
        assert describe_events(page.events)[0].text == sentence


def test_the_page_speaks_the_viewers_preferred_language(client, seller, li_and_ivan):
    owner, _ivan = li_and_ivan
    User.objects.filter(pk=owner.pk).update(preferred_language="zh-hans")
    client.force_login(owner)
    content = client.get(reverse("audit:events", args=[seller.pk])).content.decode()
    assert "Li Wei 停用了 Ivan Petrov" in content and "审计日志" in content


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
def test_the_export_is_described_in_the_readers_language(client, seller, li_and_ivan, export_format):
    """The rows are streamed after the request's language is reset: they keep the reader's."""
    owner, _ivan = li_and_ivan
    User.objects.filter(pk=owner.pk).update(preferred_language="zh-hans")
    client.force_login(owner)
    body = _export(client, seller, export_format, action=events.MEMBER_SUSPENDED)
    if export_format == "csv":
        [row] = csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
        details = row["details"]
    else:
        row = json.loads(body)
        details = "；".join(f"{d['label']}：{d['old']} → {d['new']}" for d in row["details"])  # noqa: RUF001
    assert (row["label"], row["description"]) == ("成员已停用", "Li Wei 停用了 Ivan Petrov")
    assert details == "状态：正常 → 已停用"  # noqa: RUF001
