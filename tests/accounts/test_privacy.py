"""A person's data: the export holds every table that mentions them (found from the database's own
foreign keys, so a table added later is caught), and erasure leaves no row anywhere with their e-mail,
names, network address or device string, while every audit page still renders."""

import json

import pyotp
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from accounts import api_tokens, privacy, services, two_factor
from accounts.models import User
from audit import events
from audit.models import AuditEvent
from audit.verification import verify_chain
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member

EMAIL = "zebediah.quarterstaff@example.org"
NAME = "Zebediah Quarterstaff"
INVITED_NAME = "Zeb Quarterstaff-Typed"
AGENT = "Mozilla/5.0 (X11; Zebediah-Laptop-7731) Gecko/20100101 Firefox/131.0"
IP = "198.51.100.77"


@pytest.fixture
def person(client, seller, owner):
    """Someone with a history: signed in from a device, a second factor, an API token, a role."""
    user = UserFactory(email=EMAIL, display_name=NAME)
    membership = make_member(seller, user=user, invited_name=INVITED_NAME)
    response = client.post(
        reverse("accounts:login"),
        {"username": EMAIL, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=AGENT,
    )
    assert response.status_code == 302
    secret = two_factor.start_enrolment(user=user)
    two_factor.confirm_enrolment(user=user, code=pyotp.TOTP(secret).now())
    codes = two_factor.generate_recovery_codes(user=user)
    created = api_tokens.create_api_token(actor=user, membership=membership, name="scanner")
    user.recovery_codes_for_test = codes
    return user, membership, created


def sign_in_again(client, user):
    """Through the sign-in pages, second factor included (a recovery code: the TOTP step is used)."""
    client.post(reverse("accounts:login"), {"username": EMAIL, "password": DEFAULT_PASSWORD}, REMOTE_ADDR=IP)
    response = client.post(
        reverse("accounts:two_factor_verify"), {"code": user.recovery_codes_for_test[0]}, REMOTE_ADDR=IP
    )
    assert response.status_code == 302, response.content


def tables_referring_to_the_person(user, membership_ids) -> set[str]:
    """Every table with a row whose foreign key points at the user or one of their memberships, read
    from the database's constraints (not from the models the export uses)."""
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            relations = connection.introspection.get_relations(cursor, table)
            for column, (_target_column, target_table) in relations.items():
                if target_table == "accounts_user":
                    values = [user.pk]
                elif target_table == "accounts_membership":
                    values = list(membership_ids)
                else:
                    continue
                if not values:
                    continue
                placeholders = ", ".join(["%s"] * len(values))
                cursor.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}" IN ({placeholders}) LIMIT 1',
                    values,
                )
                if cursor.fetchone():
                    found.add(table)
    return found


def test_the_export_holds_every_table_that_mentions_the_person_and_no_secret(client, person):
    user, membership, created = person
    response = client.get(reverse("privacy:export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["format"] == privacy.FORMAT
    assert data["user"]["email"] == EMAIL
    exported_tables = {apps.get_model(label)._meta.db_table for label in data["tables"]}
    expected = tables_referring_to_the_person(user, [membership.pk])
    assert {"accounts_membership", "accounts_browsersession", "accounts_apitoken"} <= expected
    assert expected <= exported_tables, expected - exported_tables
    assert any(event["action"] == events.LOGIN for event in data["audit_events"])
    body = response.content.decode()
    user.refresh_from_db()
    for secret in (user.password, created.secret, created.token.token_hash):
        assert secret not in body
    assert "encrypted_secret" not in body and "token_hash" not in body and "code_hash" not in body
    assert AuditEvent.objects.filter(action=events.DATA_EXPORTED, actor_user_id=user.pk).count() == 1


def test_the_api_gives_the_caller_their_own_data(client, person):
    _user, _membership, created = person
    client.logout()
    response = client.get(reverse("api:me-data"), HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    assert data["user"]["email"] == EMAIL
    event = AuditEvent.objects.get(action=events.DATA_EXPORTED)
    assert event.actor_token_id == created.token.pk


def _cells(value) -> str:
    if isinstance(value, memoryview | bytes):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def rows_holding(needles) -> list[tuple[str, str]]:
    """(table, needle) for every row of every table in which one of the needles appears, in any column."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                text = " ".join(_cells(value) for value in row if value is not None).lower()
                hits.extend((table, needle) for needle in needles if needle.lower() in text)
    return hits


def test_erasure_leaves_no_trace_of_the_person_and_every_audit_page_renders(client, seller, owner, person):
    user, membership, _created = person
    needles = [EMAIL, NAME, INVITED_NAME, AGENT, IP]
    assert {needle for _table, needle in rows_holding(needles)} == set(needles)  # the scan finds them

    # Still a member: refused.
    response = client.post(reverse("privacy:erase"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 409
    with pytest.raises(CommandError, match="left every seller"):
        call_command("erase_person", "--user-id", user.pk)

    services.remove_member(actor=owner, membership=membership)
    sign_in_again(client, user)
    assert client.get(reverse("privacy:erase")).status_code == 200
    assert client.post(reverse("privacy:erase"), {"password": "wrong"}).status_code == 400
    response = client.post(reverse("privacy:erase"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302

    assert rows_holding(needles) == []
    user = User.objects.get(pk=user.pk)
    assert user.email == privacy.pseudonym_email(user.pk) and not user.has_usable_password()
    assert not user.is_active
    assert not user.browser_sessions.exists() and not user.recovery_codes.exists()
    assert not membership.api_tokens.exists()
    steps = list(
        AuditEvent.objects.filter(action__in=[events.ERASURE_REQUESTED, events.ERASED]).values_list(
            "action", "actor_user_id", "target_id"
        )
    )
    assert steps == [(events.ERASURE_REQUESTED, user.pk, user.pk), (events.ERASED, user.pk, user.pk)]
    assert verify_chain(seller.pk).ok and verify_chain(None).ok

    client.force_login(owner)
    page = client.get(reverse("audit:events", args=[seller.pk]))
    assert page.status_code == 200
    assert f"former member #{membership.pk}" in page.content.decode()
    assert client.get(reverse("audit:export", args=[seller.pk]) + "?format=csv").status_code == 200
    assert client.get(reverse("audit:export", args=[seller.pk]) + "?format=jsonl").status_code == 200
    assert client.get(reverse("dashboard:overview", args=[seller.pk])).status_code == 200
    assert client.get(reverse("accounts:member", args=[seller.pk, membership.pk])).status_code == 200


def test_an_operator_erases_someone_who_has_left(seller, owner, person):
    user, membership, _created = person
    services.remove_member(actor=owner, membership=membership)
    call_command("erase_person", "--email", EMAIL.upper())
    assert User.objects.get(pk=user.pk).email == privacy.pseudonym_email(user.pk)
    event = AuditEvent.objects.get(action=events.ERASED)
    assert (event.actor_user_id, event.target_id) == (None, user.pk)
    with pytest.raises(CommandError, match="No such person"):
        call_command("erase_person", "--email", EMAIL)


def test_the_privacy_notice_reads_in_three_languages(client, db):
    for language, phrase in (("en", "How long"), ("ru", "Как долго"), ("zh-hans", "保存多久")):
        response = client.get(reverse("privacy:notice"), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert phrase in response.content.decode()
