"""Passwords: zxcvbn's estimate with feedback in the person's language, no reuse of the last five, and a
seller's optional expiry with a reminder e-mailed once a week ahead and a forced change at the next sign-in.
The clock is moved with time-machine."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from zxcvbn.feedback import get_feedback, get_match_feedback

from accounts import password_policy, services
from accounts.models import PasswordHistory
from accounts.validators import ZXCVBN_FEEDBACK
from audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member

pytestmark = [pytest.mark.django_db]

START = datetime(2030, 1, 10, 8, 0, tzinfo=UTC)
WEAK = ["aaaaaaaaaaaa", "Password123!", "Summer2024!!", "iloveyou1234"]


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def refusal(password, user=None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_with_advice(password):
    messages = refusal(password, UserFactory.build())
    assert "This password is too easy to guess." in messages
    assert len(messages) >= 2  # and says what would help


def test_the_advice_is_in_the_persons_language():
    with translation.override("ru"):
        russian = refusal("Password123!")
    with translation.override("zh-hans"):
        chinese = refusal("Password123!")
    assert "Этот пароль слишком легко угадать." in russian
    assert "Это похоже на часто используемый пароль." in russian
    assert "这个密码太容易被猜到。" in chinese
    assert all("password" not in message.lower() for message in chinese)


def test_every_sentence_zxcvbn_can_say_is_translated():
    """zxcvbn's feedback is English: each sentence it can produce must be in ZXCVBN_FEEDBACK (and so in the
    catalogs, which test_translations checks). Found by asking its feedback functions every match kind."""
    said = set(get_feedback(0, [])["suggestions"])
    matches = [
        {"pattern": "spatial", "turns": 1, "token": "qwerty"},
        {"pattern": "spatial", "turns": 3, "token": "qwsaz"},
        {"pattern": "repeat", "base_token": "a", "token": "aaa"},
        {"pattern": "repeat", "base_token": "abc", "token": "abcabc"},
        {"pattern": "sequence", "token": "abc"},
        {"pattern": "regex", "regex_name": "recent_year", "token": "2019"},
        {"pattern": "date", "token": "1.1.91"},
    ]
    for dictionary, rank in (("passwords", 5), ("passwords", 50), ("passwords", 500)):
        matches.append(
            {
                "pattern": "dictionary",
                "dictionary_name": dictionary,
                "rank": rank,
                "token": "Abcd",
                "reversed": False,
                "guesses_log10": 3,
            }
        )
    matches += [
        {
            "pattern": "dictionary",
            "dictionary_name": "passwords",
            "rank": 5,
            "token": "ABCD",
            "reversed": True,
            "l33t": True,
            "guesses_log10": 3,
        },
        {
            "pattern": "dictionary",
            "dictionary_name": "english_wikipedia",
            "rank": 5,
            "token": "word",
            "reversed": False,
        },
        {
            "pattern": "dictionary",
            "dictionary_name": "surnames",
            "rank": 5,
            "token": "smith",
            "reversed": False,
        },
    ]
    for match in matches:
        for sole in (True, False):
            feedback = get_match_feedback(match, sole) or {}
            said |= {feedback.get("warning") or "", *feedback.get("suggestions", [])}
    said |= set(get_feedback(0, [{"token": "x", "pattern": "bruteforce"}])["suggestions"])
    said.discard("")
    assert said - set(ZXCVBN_FEEDBACK) == set()


def test_a_strong_passphrase_is_accepted():
    assert refusal("tea-caravan-granite-lantern") == []


def test_the_last_five_passwords_cannot_be_used_again(clock, seller):
    person = make_member(seller).user
    passwords = [f"river-{word}-orchid-ledger" for word in ("amber", "basil", "cedar", "delta", "ember")]
    current = DEFAULT_PASSWORD
    for password in passwords:
        clock.shift(timedelta(minutes=1))
        person = services.change_password(user=person, old_password=current, new_password=password)
        current = password
    assert PasswordHistory.objects.filter(user=person).count() == 5
    for earlier in passwords:
        with pytest.raises(services.InvalidInput) as refused:
            services.change_password(user=person, old_password=current, new_password=earlier)
        assert "you have not used recently" in str(refused.value.errors["new_password1"])
    # the sixth one back is forgotten, so it may come back
    services.change_password(user=person, old_password=current, new_password=DEFAULT_PASSWORD)


def test_the_profile_form_shows_the_reasons_in_the_persons_language(client, seller):
    person = make_member(seller, user=UserFactory(preferred_language="ru")).user
    client.force_login(person)
    response = client.post(
        reverse("dashboard:profile"),
        {
            "form": "password",
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Summer2024!!",
            "new_password2": "Summer2024!!",
        },
    )
    assert response.status_code == 200
    assert "Этот пароль слишком легко угадать." in response.content.decode()
    response = client.post(
        reverse("dashboard:profile"),
        {
            "form": "password",
            "old_password": DEFAULT_PASSWORD,
            "new_password1": DEFAULT_PASSWORD,
            "new_password2": DEFAULT_PASSWORD,
        },
    )
    assert "которые недавно использовали" in response.content.decode()


# --- expiry ---------------------------------------------------------------------------------------------


def set_expiry(seller, days):
    seller.password_max_age_days = days
    seller.save(update_fields=["password_max_age_days"])


def test_passwords_do_not_expire_unless_a_seller_asks(clock, seller):
    person = make_member(seller).user
    clock.shift(timedelta(days=3650))
    assert not password_policy.password_expired(person)
    assert password_policy.remind_expiring_passwords() == 0


def test_a_reminder_goes_out_a_week_ahead_once(clock, seller, owner):
    set_expiry(seller, 90)
    person = make_member(seller, user=UserFactory(preferred_language="zh-hans")).user
    services.change_password(
        user=person, old_password=DEFAULT_PASSWORD, new_password="tea-caravan-granite-lantern"
    )
    mail.outbox.clear()
    clock.shift(timedelta(days=82))  # 8 days before: too early
    assert password_policy.remind_expiring_passwords() == 0
    clock.shift(timedelta(days=1, hours=1))
    assert password_policy.remind_expiring_passwords() == 2  # the person and the owner (same age)
    assert password_policy.remind_expiring_passwords() == 0  # never twice for the same password
    clock.shift(timedelta(days=2))
    assert password_policy.remind_expiring_passwords() == 0
    assert sorted(message.to[0] for message in mail.outbox) == sorted([person.email, owner.email])
    to_person = next(message for message in mail.outbox if message.to == [person.email])
    assert to_person.subject == "您的 OzonSeat 密码即将过期"
    event = AuditEvent.objects.get(action="auth.password_expiry_reminded", target_id=person.pk)
    assert event.seller_id == seller.pk and event.target_id == person.pk


def test_after_expiry_the_next_sign_in_must_choose_a_new_password_first(clock, seller):
    set_expiry(seller, 30)
    person = make_member(seller).user
    client = Client()
    clock.shift(timedelta(days=31))
    response = client.post(
        reverse("accounts:login"), {"username": person.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    forced = reverse("accounts:password_change_required")
    for page in (reverse("dashboard:overview", args=[seller.pk]), reverse("dashboard:profile")):
        assert client.get(page)["Location"] == forced
    assert client.get(forced).status_code == 200
    response = client.post(
        forced,
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "quiet-harbor-copper-kettle",
            "new_password2": "quiet-harbor-copper-kettle",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard:overview", args=[seller.pk])).status_code == 200
    person.refresh_from_db()
    assert not password_policy.password_expired(person)
