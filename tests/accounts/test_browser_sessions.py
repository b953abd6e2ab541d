"""Open sessions: recorded at sign-in, listed on the sub-account page and the profile, ended by "sign out
everywhere" (audited), by signing out, by suspension and by a password change."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import api_tokens, browser_sessions, services
from accounts.models import BrowserSession, User
from audit.models import AuditEvent
from ozonseat.errors import Conflict, NotAllowed
from tests.factories import DEFAULT_PASSWORD, make_member, make_seller

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)


def sign_in(user, *, user_agent=CHROME_WINDOWS, ip="203.0.113.7") -> Client:
    """A browser that signed in through the real sign-in form."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def fresh(membership):
    """The member's user as stored now (a password change or sign-out changes its session auth hash)."""
    return User.objects.get(pk=membership.user_id)


def still_signed_in(client, seller) -> bool:
    response = client.get(reverse("dashboard:overview", kwargs={"seller_id": seller.pk}))
    return response.status_code == 200


def member_url(seller, membership, action=None):
    if action:
        return reverse(
            "accounts:member_action",
            kwargs={"seller_id": seller.pk, "membership_id": membership.pk, "action": action},
        )
    return reverse("accounts:member", kwargs={"seller_id": seller.pk, "membership_id": membership.pk})


@pytest.fixture
def shop():
    seller, owner = make_seller(name="Ozon Shop")
    ivan = make_member(seller, job_title="Sales")
    return seller, owner, ivan


def test_sign_in_records_the_session_with_device_and_address(shop):
    _seller, _owner, ivan = shop
    browser = sign_in(ivan.user)
    record = BrowserSession.objects.get(user=ivan.user)
    assert browser.session[browser_sessions.SESSION_KEY] == record.pk
    assert record.ip_address == "203.0.113.7" and record.ended_at is None
    assert record.device == "Chrome 120 · Windows 10"
    assert browser_sessions.open_sessions(fresh(ivan)) == [record]


def test_the_owner_sees_where_a_member_is_signed_in(shop):
    seller, owner, ivan = shop
    sign_in(ivan.user)
    sign_in(ivan.user, user_agent=SAFARI_IPHONE, ip="198.51.100.20")
    owner_browser = sign_in(owner.user)
    html = owner_browser.get(member_url(seller, ivan)).content.decode()
    assert "Open sessions" in html
    assert "Chrome 120 · Windows 10" in html and "203.0.113.7" in html
    assert "Mobile Safari 17 · iOS 17" in html and "198.51.100.20" in html
    assert member_url(seller, ivan, "signout") in html


def test_sign_out_everywhere_asks_first_then_ends_every_session_and_is_audited(shop):
    seller, owner, ivan = shop
    laptop, phone = sign_in(ivan.user), sign_in(ivan.user, user_agent=SAFARI_IPHONE)
    owner_browser = sign_in(owner.user)

    question = owner_browser.get(member_url(seller, ivan, "signout")).content.decode()
    assert f"{ivan.user} will be signed out of 2 open sessions at once" in question
    assert still_signed_in(laptop, seller) and still_signed_in(phone, seller)  # asking changed nothing

    response = owner_browser.post(member_url(seller, ivan, "signout"), follow=True)
    assert f"{ivan.user} was signed out everywhere." in response.content.decode()
    assert not still_signed_in(laptop, seller) and not still_signed_in(phone, seller)
    assert still_signed_in(owner_browser, seller)
    assert browser_sessions.open_sessions(fresh(ivan)) == []
    assert not BrowserSession.objects.filter(user=ivan.user, ended_at__isnull=True).exists()
    event = AuditEvent.objects.get(seller_id=seller.pk, action="member.signed_out")
    assert event.actor_user_id == owner.user_id and event.target_id == ivan.pk
    assert event.changes == {"open_sessions": [2, 0]}
    # The page now says so, and offers no button
    html = owner_browser.get(member_url(seller, ivan)).content.decode()
    assert "Not signed in anywhere." in html and member_url(seller, ivan, "signout") not in html
    # Ivan can sign in again: signing out is not suspension
    assert still_signed_in(sign_in(ivan.user), seller)


def test_sign_out_everywhere_needs_the_right_and_refuses_owner_and_self(shop):
    seller, owner, ivan = shop
    clerk = make_member(seller)
    sign_in(ivan.user)
    sign_in(owner.user)
    stamp = fresh(ivan).session_stamp

    with pytest.raises(NotAllowed):
        services.sign_out_everywhere(actor=clerk.user, membership=ivan)
    with pytest.raises(NotAllowed):
        services.sign_out_everywhere(actor=owner.user, membership=owner)
    clerk_browser = sign_in(clerk.user)
    assert clerk_browser.post(member_url(seller, ivan, "signout")).status_code == 403
    assert fresh(ivan).session_stamp == stamp
    assert len(browser_sessions.open_sessions(fresh(ivan))) == 1
    assert not AuditEvent.objects.filter(action="member.signed_out").exists()


def test_a_member_of_another_seller_cannot_sign_anyone_out(shop):
    seller, _owner, ivan = shop
    other_seller, other_owner = make_seller(name="Other Shop")
    sign_in(ivan.user)
    intruder = sign_in(other_owner.user)
    assert intruder.post(member_url(seller, ivan, "signout")).status_code == 404
    assert intruder.post(member_url(other_seller, ivan, "signout")).status_code == 404
    with pytest.raises(NotAllowed):
        services.sign_out_everywhere(actor=other_owner.user, membership=ivan)
    assert len(browser_sessions.open_sessions(fresh(ivan))) == 1


def test_nothing_to_sign_out_is_a_clear_conflict(shop):
    seller, owner, ivan = shop
    with pytest.raises(Conflict, match="has no open sessions"):
        services.sign_out_everywhere(actor=owner.user, membership=ivan)
    owner_browser = sign_in(owner.user)
    response = owner_browser.post(member_url(seller, ivan, "signout"), follow=True)
    assert "has no open sessions." in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.signed_out").exists()


def test_signing_out_and_suspension_close_the_record(shop):
    _seller, owner, ivan = shop
    browser = sign_in(ivan.user)
    browser.post(reverse("accounts:logout"))
    assert BrowserSession.objects.get(user=ivan.user).ended_at is not None
    sign_in(ivan.user)
    services.suspend_member(actor=owner.user, membership=ivan)
    assert not BrowserSession.objects.filter(user=ivan.user, ended_at__isnull=True).exists()
    assert browser_sessions.open_sessions(fresh(ivan)) == []


def test_a_password_change_keeps_this_session_and_closes_the_others(shop):
    seller, _owner, ivan = shop
    here, elsewhere = sign_in(ivan.user), sign_in(ivan.user, user_agent=SAFARI_IPHONE)
    response = here.post(
        reverse("dashboard:profile"),
        {
            "form": "password",
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert still_signed_in(here, seller) and not still_signed_in(elsewhere, seller)
    assert [s.pk for s in browser_sessions.open_sessions(fresh(ivan))] == [
        here.session[browser_sessions.SESSION_KEY]
    ]


def test_profile_lists_own_sessions_and_signs_out_the_others_after_asking(shop):
    seller, _owner, ivan = shop
    here = sign_in(ivan.user)
    elsewhere = sign_in(ivan.user, user_agent=SAFARI_IPHONE)
    html = here.get(reverse("dashboard:profile")).content.decode()
    assert "this browser" in html and "Mobile Safari 17 · iOS 17" in html

    question = here.post(reverse("dashboard:profile"), {"form": "signout_others"}).content.decode()
    assert "1 other session ends at once; this browser stays signed in." in question
    assert still_signed_in(elsewhere, seller)

    response = here.post(
        reverse("dashboard:profile"), {"form": "signout_others", "confirmed": "1"}, follow=True
    )
    assert "1 other session was signed out." in response.content.decode()
    assert still_signed_in(here, seller) and not still_signed_in(elsewhere, seller)
    assert [s.pk for s in browser_sessions.open_sessions(fresh(ivan))] == [
        here.session[browser_sessions.SESSION_KEY]
    ]
    event = AuditEvent.objects.get(action="auth.signed_out_elsewhere")
    assert event.actor_user_id == ivan.user_id and event.changes == {"other_sessions": [1, 0]}


def test_last_active_is_written_at_most_once_per_resolution(shop, django_assert_num_queries):
    _seller, _owner, ivan = shop
    browser = sign_in(ivan.user)
    record = BrowserSession.objects.get(user=ivan.user)
    long_ago = timezone.now() - timedelta(hours=3)
    BrowserSession.objects.filter(pk=record.pk).update(last_seen_at=long_ago)
    browser.get(reverse("dashboard:profile"))  # written at sign-in moments ago: no new write
    assert BrowserSession.objects.get(pk=record.pk).last_seen_at == long_ago
    cache.delete(f"ozonseat:browser-session-seen:{record.pk}")
    browser.get(reverse("dashboard:profile"))
    seen = BrowserSession.objects.get(pk=record.pk).last_seen_at
    assert seen > long_ago + timedelta(hours=2)
    # A session idle for longer than the session lifetime no longer counts as open
    BrowserSession.objects.filter(pk=record.pk).update(last_seen_at=timezone.now() - timedelta(days=2))
    assert browser_sessions.open_sessions(fresh(ivan)) == []


def test_member_page_lists_their_api_tokens_and_revokes_after_asking(shop):
    seller, owner, ivan = shop
    created = api_tokens.create_api_token(actor=ivan.user, membership=ivan, name="Order export")
    owner_browser = sign_in(owner.user)
    html = owner_browser.get(member_url(seller, ivan)).content.decode()
    assert "Order export" in html and f"{created.token.prefix}…" in html
    assert created.secret not in html

    tokens_url = reverse("dashboard:tokens", kwargs={"seller_id": seller.pk})
    question = owner_browser.post(tokens_url, {"form": "revoke", "token": created.token.pk, "back": "member"})
    assert question.status_code == 200 and 'name="back" value="member"' in question.content.decode()
    created.token.refresh_from_db()
    assert created.token.revoked_at is None

    response = owner_browser.post(
        tokens_url, {"form": "revoke", "token": created.token.pk, "back": "member", "confirmed": "1"}
    )
    assert response.status_code == 302 and response["Location"] == member_url(seller, ivan)
    created.token.refresh_from_db()
    assert created.token.revoked_at is not None
    # still listed, as revoked, with nothing left to do on it
    html = owner_browser.get(member_url(seller, ivan)).content.decode()
    row = re.search(r"<tr>\s*<td>Order export</td>.*?</tr>", html, re.S).group(0)
    assert "Revoked" in row and 'name="token"' not in row


def test_sessions_and_tokens_are_hidden_from_members_without_the_right(shop):
    seller, _owner, ivan = shop
    api_tokens.create_api_token(actor=ivan.user, membership=ivan, name="Order export")
    sign_in(ivan.user)
    colleague = sign_in(make_member(seller).user)
    html = colleague.get(member_url(seller, ivan)).content.decode()
    assert "Open sessions" not in html and "Order export" not in html and "203.0.113.7" not in html


def test_old_session_rows_are_forgotten_by_the_daily_job(shop):
    from accounts.tasks import forget_old_browser_sessions

    _seller, _owner, ivan = shop
    sign_in(ivan.user)
    sign_in(ivan.user)
    old, recent = BrowserSession.objects.filter(user=ivan.user).order_by("pk")
    long_ago = timezone.now() - timedelta(days=91)
    BrowserSession.objects.filter(pk=old.pk).update(
        created_at=long_ago, last_seen_at=long_ago, ended_at=long_ago
    )
    assert forget_old_browser_sessions.apply().get() == 1
    assert list(BrowserSession.objects.filter(user=ivan.user)) == [recent]


def test_profile_shows_session_times_in_the_sellers_time_zone(shop):
    seller, _owner, ivan = shop
    type(seller).objects.filter(pk=seller.pk).update(time_zone="Asia/Shanghai")
    browser = sign_in(ivan.user)
    moment = (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)  # still open
    BrowserSession.objects.filter(user=ivan.user).update(created_at=moment, last_seen_at=moment)
    html = browser.get(reverse("dashboard:profile")).content.decode()
    in_shanghai = moment + timedelta(hours=8)  # UTC+8 all year round
    assert in_shanghai.strftime("%m/%d/%Y %H:%M") in html
    assert moment.strftime("%m/%d/%Y %H:%M") not in html
