"""Every registered audit event type, recorded with realistic changes (tests/audit/samples.py), reads well
wherever OzonSeat shows events — the overview's and a member page's recent activity, the audit log
viewer, the dashboard's CSV and JSON Lines exports, the API's list and its two exports — in English,
Russian and Chinese: never an error, no raw field name, no None, no #id or "deleted" for a thing that
exists, no English word on a Russian or Chinese page. The event types come from the registry, so one added
later is covered at once (and fails until it has a sample)."""

import csv
import io
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts import api_tokens
from accounts.models import User
from audit import events, vocabulary
from audit.describe import describe_events
from audit.models import AuditEvent
from audit.services import record_event
from tests.audit.reading import activity_line, problems, viewer_row
from tests.audit.samples import SAMPLES, build_sample_world

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "ru", "zh-hans")
ACTIONS = [event_type.action for event_type in events.all_event_types()]


@pytest.fixture
def world(db):
    return build_sample_world()


def record_sample(world, action) -> tuple[AuditEvent, object]:
    assert action in SAMPLES, f"{action} has no realistic sample: add one to tests/audit/samples.py"
    sample = SAMPLES[action](world)
    with transaction.atomic():
        return record_event(action=action, **sample.record_kwargs(world)), sample


def member_page_of(world, event) -> str | None:
    """The member page whose recent activity shows the event: the page of the member it is about, or of
    the person it is about or who did it; None for an event about the seller that nobody did."""
    from accounts.models import Membership

    if event.target_type == "membership":
        return reverse("accounts:member", args=[world.seller.pk, event.target_id])
    user_id = event.target_id if event.target_type == "user" else event.actor_user_id
    membership = Membership.objects.filter(seller=world.seller, user_id=user_id).first()
    return reverse("accounts:member", args=[world.seller.pk, membership.pk]) if membership else None


def export_texts(body: str, export_format: str, event_id: int) -> str:
    """What an export says to people about the event: its label, description, details, actor, target."""
    if export_format == "csv":
        rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))}
        row = rows[event_id]
        return " | ".join(row[column] for column in ("label", "description", "details", "actor", "target"))
    records = {record["id"]: record for record in map(json.loads, body.splitlines())}
    return described_text(records[event_id])


def described_text(record: dict) -> str:
    details = [" ".join((detail["label"], detail["old"], detail["new"])) for detail in record["details"]]
    return " | ".join([record["label"], record["description"], *details, record["actor"], record["target"]])


def streamed(response) -> str:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("action", ACTIONS)
def test_every_event_type_reads_well_everywhere_in_every_language(client, world, action):
    owner = world.owner.user
    token = api_tokens.create_api_token(actor=owner, membership=world.owner, name="审计工具").secret
    client.force_login(owner)
    event, sample = record_sample(world, action)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    shown = {}
    # Pages first: the exports below record events of their own, which come first in recent activity.
    for language in LANGUAGES:
        User.objects.filter(pk=owner.pk).update(preferred_language=language)
        for page, url in [
            ("overview", reverse("dashboard:overview", args=[world.seller.pk])),
            ("member page", member_page_of(world, event)),
        ]:
            if url is None:
                # Only the system acts on the seller, its access reviews or (mapping them onto a new catalog)
                # its roles without a member to show it.
                assert event.actor_user_id is None and event.target_type in (
                    "seller",
                    "accessreview",
                    "role",
                ), action
                continue
            response = client.get(url)
            assert response.status_code == 200, (page, language)
            shown[(page, language)] = activity_line(response.content.decode(), event.pk)
        response = client.get(reverse("audit:events", args=[world.seller.pk]), {"action": action})
        assert response.status_code == 200, language
        shown[("audit log", language)] = viewer_row(response.content.decode(), event.pk)
    for language in LANGUAGES:
        User.objects.filter(pk=owner.pk).update(preferred_language=language)
        for export_format in ("csv", "jsonl"):
            params = {"action": action, "format": export_format}
            body = streamed(client.get(reverse("audit:export", args=[world.seller.pk]), params))
            shown[(f"dashboard {export_format}", language)] = export_texts(body, export_format, event.pk)
            body = streamed(
                api.get(
                    f"/api/v1/sellers/{world.seller.pk}/audit-events/export",
                    params,
                    HTTP_ACCEPT_LANGUAGE=language,
                )
            )
            shown[(f"API {export_format}", language)] = export_texts(body, export_format, event.pk)
        response = api.get(
            f"/api/v1/sellers/{world.seller.pk}/audit-events",
            {"action": action},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 200, language
        listed = {record["id"]: record for record in response.json()["results"]}
        shown[("API list", language)] = described_text(listed[event.pk])
    wrong = {
        where: (text, found)
        for where, text in shown.items()
        if (found := problems(text, where[1], names_deleted=sample.names_deleted))
    }
    assert not wrong, wrong


def test_every_event_type_has_a_sample_and_no_sample_is_left_over():
    assert sorted(SAMPLES) == sorted(ACTIONS)


def test_every_sample_names_only_fields_and_kinds_the_vocabularies_know(world):
    for action, factory in SAMPLES.items():
        sample = factory(world)
        assert vocabulary.unknown_fields(action, sample.changes or {}) == [], action
        target_type = sample.target._meta.model_name if sample.target is not None else sample.target_type
        assert vocabulary.get_kind(target_type) is not None, (action, target_type)


def test_a_change_field_no_vocabulary_knows_is_refused_when_recorded(world):
    with pytest.raises(KeyError, match="warehouse_idz"), transaction.atomic():
        record_event(
            action=events.ASSIGNMENT_GRANTED,
            seller=world.seller,
            actor=world.owner.user,
            target=world.picker,
            changes={"warehouse_idz": [None, [world.khimki.pk]]},
        )
    assert not AuditEvent.objects.filter(action=events.ASSIGNMENT_GRANTED, changes__has_key="warehouse_idz")


def test_a_kind_of_target_no_vocabulary_knows_is_refused_when_recorded(world):
    with pytest.raises(KeyError, match="shiftschedule"), transaction.atomic():
        record_event(
            action=events.MEMBER_UPDATED,
            seller=world.seller,
            actor=world.owner.user,
            target_type="shiftschedule",
            target_id=1,
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_field_unknown_when_shown_reads_safely(world, language):
    """An event stored before its field had a vocabulary (or by an older version) still reads."""
    event = AuditEvent(
        seller_id=world.seller.pk,
        action=events.MEMBER_UPDATED,
        actor_user_id=world.owner.user_id,
        target_type="membership",
        target_id=world.picker.pk,
        changes={"shift_pattern": [None, {"days": ["mon", "tue"], "night": True}], "job_title": ["", "组长"]},
    )
    with translation.override(language):
        description = describe_events([event], time_zone=world.seller.time_zone)[0]
        other = translation.pgettext("audit field", "Other detail")
    labels = [detail.label for detail in description.details]
    assert other in labels and "shift_pattern" not in description.details_text
    assert problems(f"{description.text} | {description.details_text}", language) == []


def test_an_unregistered_action_reads_as_itself_rather_than_failing(world):
    event = AuditEvent(seller_id=world.seller.pk, action="review.started", changes={"x": [None, 1]})
    assert describe_events([event])[0].text == "review.started"


# Ten event types that between them mention every kind of thing: people, members, the seller, stores,
# warehouses, roles, an API token, an access review.
TEN_KINDS_OF_EVENTS = [
    events.ASSIGNMENT_GRANTED,
    events.ASSIGNMENT_REVOKED,
    events.TOKEN_CREATED,
    events.EXPORTED,
    events.ROLE_DELETED,
    events.WAREHOUSE_ADDED,
    events.SELLER_UPDATED,
    events.ACCESS_DENIED,
    events.REVIEW_CLOSED,
    events.LOGIN,
    events.MEMBERS_IMPORTED,  # with the ten above, every kind of thing is mentioned
]


def record_rounds(world, rounds: int) -> list[AuditEvent]:
    return [record_sample(world, action)[0] for _ in range(rounds) for action in TEN_KINDS_OF_EVENTS]


def test_describing_ten_or_two_hundred_events_costs_the_same_queries(world):
    ten, two_hundred = record_rounds(world, 1), record_rounds(world, 20)
    with CaptureQueriesContext(connection) as for_ten:
        described = describe_events(ten)
    with CaptureQueriesContext(connection) as for_two_hundred:
        describe_events(two_hundred)
    # One query per kind of thing the events mention (every kind, here), whatever their number.
    assert (
        len(for_ten.captured_queries) == len(for_two_hundred.captured_queries) == len(vocabulary.all_kinds())
    )
    assert "Иван Петров" in described[0].text and "Химки" in described[0].details_text


def test_the_dashboard_pages_cost_the_same_queries_for_few_or_many_events(client, world):
    client.force_login(world.owner.user)
    urls = [
        reverse("dashboard:overview", args=[world.seller.pk]),
        reverse("accounts:member", args=[world.seller.pk, world.picker.pk]),
        reverse("audit:events", args=[world.seller.pk]),
    ]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            found.append(len(captured.captured_queries))
        return found

    # Pages show the newest 10 or 50 events: the same kinds of events before and after.
    record_rounds(world, 5)
    counts()
    before = counts()
    record_rounds(world, 20)
    assert counts() == before


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("status: active → removed", "en"),
        ("role_id: 18 → None", "en"),
        ("warehouse_ids: [3]", "zh-hans"),
        ("状态: pending_confirmation", "zh-hans"),
        ("李伟 添加了仓库 warehouse #3", "zh-hans"),
        ("李伟 выдал(а) роль role #22", "ru"),  # noqa: RUF001
        ("Li Wei gave Иван Петров a role", "ru"),
        ("李伟 exported the audit log", "zh-hans"),
        ("{actor} 登录了", "zh-hans"),
        ("李伟 删除了角色 a deleted role", "zh-hans"),
    ],
)
def test_the_reader_finds_what_a_careless_description_shows(text, language):
    assert problems(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("李伟 为 Иван Петров 分配了角色 拣货员", "zh-hans"),
        ("Формат: CSV; Фильтры: Магазин: 华东旗舰店", "ru"),
        ("李伟 导出了审计日志（JSON Lines）", "zh-hans"),  # noqa: RUF001
        ("Иван Петров получил(а) отказ в доступе к /sellers/5/audit/", "ru"),  # noqa: RUF001
        ("时区：UTC → Asia/Shanghai；类型：FBS；Ozon Client-ID：123456", "zh-hans"),  # noqa: RUF001
        ("Li Wei changed the role Picker: Display name: changed", "en"),
    ],
)
def test_the_reader_accepts_names_codes_and_translated_words(text, language):
    assert problems(text, language) == []


def test_an_event_done_through_an_api_token_names_the_person_and_the_token(world):
    with transaction.atomic():
        by_person = record_event(
            action=events.MEMBER_SUSPENDED,
            seller=world.seller,
            actor=world.owner.user,
            target=world.picker,
            actor_token_id=world.token_id,
        )
        by_token_alone = record_event(
            action=events.MEMBER_SUSPENDED,
            seller=world.seller,
            target=world.picker,
            actor_token_id=world.token_id,
        )
    with translation.override("zh-hans"):
        person, token = describe_events([by_person, by_token_alone])
    assert person.text == "李伟 停用了 Иван Петров"
    assert person.details_text == "通过 API 令牌\uff1a库存同步"  # a full-width colon in Chinese
    assert token.text == "API 令牌 库存同步 停用了 Иван Петров"


def test_people_are_named_as_the_seller_of_the_event_sees_them(world):
    """A person invited from another seller is, to this seller, the name it typed until they join; in
    their own events of no seller, they are their own name. One batch holds both."""
    from accounts import services
    from tests.factories import UserFactory

    person = UserFactory(display_name="Olga from elsewhere", email="olga@example.com")
    invited = services.invite_member(
        actor=world.owner.user, seller=world.seller, email="olga@example.com", display_name="Ольга (склад)"
    )
    with transaction.atomic():
        signed_in_here = record_event(
            action=events.LOGIN, seller=world.seller, actor=person, target_type="user", target_id=person.pk
        )
        own = record_event(action=events.PASSWORD_CHANGED, seller=None, actor=person, target=person)
    invited_event = AuditEvent.objects.get(action=events.MEMBER_INVITED, target_id=invited.pk)
    texts = [item.text for item in describe_events([invited_event, signed_in_here, own])]
    assert texts == [
        "李伟 invited Ольга (склад)",
        "Ольга (склад) signed in",
        "Olga from elsewhere changed their password",
    ]
