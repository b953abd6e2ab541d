"""A seller's session policy: an idle timeout and an absolute lifetime, enforced on the server, shown and
edited on the settings page. Time is moved with time-machine."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts import browser_sessions, services
from accounts.models import BrowserSession
from audit.models import AuditEvent
from ozonseat.errors import InvalidInput
from tests.factories import DEFAULT_PASSWORD, make_member

pytestmark = [pytest.mark.django_db]

START = datetime(2030, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in(user) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def works(client, seller) -> bool:
    return client.get(reverse("dashboard:my_access", args=[seller.pk])).status_code == 200


def policy(seller, **values):
    for name, value in values.items():
        setattr(seller, name, value)
    seller.save(update_fields=list(values))


def test_a_session_idle_longer_than_the_timeout_ends(clock, seller):
    policy(seller, session_idle_timeout_minutes=30)
    person = make_member(seller).user
    client = signed_in(person)
    clock.shift(timedelta(minutes=29))
    assert works(client, seller)  # activity restarts the idle clock
    clock.shift(timedelta(minutes=29))
    assert works(client, seller)
    clock.shift(timedelta(minutes=31))
    response = client.get(reverse("dashboard:my_access", args=[seller.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert not works(client, seller)
    assert browser_sessions.open_sessions(person) == []
    assert BrowserSession.objects.get(user=person).ended_at is not None
    assert not AuditEvent.objects.filter(action="auth.logout").exists()  # not a sign-out by the person


def test_a_session_ends_after_its_absolute_lifetime_however_active(clock, seller):
    policy(seller, session_max_age_hours=2, session_idle_timeout_minutes=60)
    client = signed_in(make_member(seller).user)
    for _ in range(3):
        clock.shift(timedelta(minutes=40))
        assert works(client, seller)
    clock.shift(timedelta(minutes=1))
    assert not works(client, seller)


def test_the_strictest_seller_applies_and_a_changed_policy_reaches_open_sessions(clock, seller):
    from tests.factories import make_seller

    other, _owner = make_seller("Strict")
    person = make_member(seller).user
    make_member(other, user=person)
    policy(other, session_idle_timeout_minutes=10)
    client = signed_in(person)
    clock.shift(timedelta(minutes=9))
    assert works(client, seller)
    policy(other, session_idle_timeout_minutes=5)
    clock.shift(timedelta(minutes=2))  # re-read at the next write of "last active" (once a minute)
    assert works(client, seller)
    clock.shift(timedelta(minutes=6))
    assert not works(client, seller)


def test_an_api_call_with_an_ended_session_is_anonymous(clock, seller):
    policy(seller, session_idle_timeout_minutes=5)
    client = signed_in(make_member(seller).user)
    assert client.get("/api/v1/me").status_code == 200
    clock.shift(timedelta(minutes=6))
    assert client.get("/api/v1/me").status_code in (401, 403)


def test_the_settings_page_shows_and_changes_the_policy_within_limits(clock, client, seller, owner):
    client.force_login(owner)
    url = reverse("accounts:seller_settings", args=[seller.pk])
    page = client.get(url).content.decode()
    assert 'name="session_idle_timeout_minutes"' in page and 'value="60"' in page
    assert "NIST SP 800-63B" in page
    data = {
        "name": seller.name,
        "default_language": "en",
        "time_zone": "UTC",
        "invitation_lifetime_hours": 72,
        "access_review_interval_days": 90,
        "session_idle_timeout_minutes": 15,
        "session_max_age_hours": 8,
        "password_max_age_days": 0,
    }
    assert client.post(url, data).status_code == 302
    seller.refresh_from_db()
    assert (seller.session_idle_timeout_minutes, seller.session_max_age_hours) == (15, 8)
    event = AuditEvent.objects.get(action="seller.updated")
    assert event.changes == {"session_idle_timeout_minutes": [60, 15], "session_max_age_hours": [12, 8]}

    too_long = client.post(url, {**data, "session_idle_timeout_minutes": 600, "session_max_age_hours": 2})
    assert too_long.status_code == 200
    assert "cannot be longer than the session itself" in too_long.content.decode()
    for field, value in (("session_idle_timeout_minutes", 2), ("session_max_age_hours", 500)):
        assert client.post(url, {**data, field: value}).status_code == 200
    seller.refresh_from_db()
    assert (seller.session_idle_timeout_minutes, seller.session_max_age_hours) == (15, 8)


def test_the_service_refuses_values_outside_the_limits(seller, owner):
    base = {
        "name": seller.name,
        "default_language": "en",
        "time_zone": "UTC",
        "invitation_lifetime_hours": 72,
        "require_two_factor": False,
        "access_review_interval_days": 90,
    }
    for field, value in (
        ("password_max_age_days", 3),
        ("password_max_age_days", 1000),
        ("session_idle_timeout_minutes", 0),
        ("session_max_age_hours", 0),
        ("session_max_age_hours", "many"),
    ):
        with pytest.raises(InvalidInput) as refused:
            services.update_seller_settings(actor=owner, seller=seller, **base, **{field: value})
        assert field in refused.value.errors
    services.update_seller_settings(actor=owner, seller=seller, **base, password_max_age_days=90)
    seller.refresh_from_db()
    assert seller.password_max_age_days == 90
