"""Behaviour of the dashboard's own pages and actions."""

import pytest
from django.urls import reverse

from accounts.models import MembershipStatus, User
from audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, make_member, make_seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    seller, owner = make_seller(name="Ozon Shop")
    return seller, owner


def test_language_switcher_saves_the_signed_in_persons_preference(client, shop):
    seller, owner = shop
    client.force_login(owner.user)
    response = client.post(reverse("dashboard:set_language"), {"language": "ru", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=owner.user.pk).preferred_language == "ru"
    event = AuditEvent.objects.get(action="user.profile_updated", actor_user_id=owner.user.pk)
    assert event.changes == {"preferred_language": ["", "ru"]}
    page = client.get(reverse("dashboard:overview", args=[seller.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "ru"


def test_language_switcher_for_a_visitor_sets_only_the_cookie(client, shop):
    response = client.post(reverse("dashboard:set_language"), {"language": "zh-hans", "next": "/login/"})
    assert response.cookies["django_language"].value == "zh-hans"
    assert client.get("/login/")["Content-Language"] == "zh-hans"


def test_language_switcher_refuses_an_unknown_language(client, shop):
    _seller, owner = shop
    client.force_login(owner.user)
    client.post(reverse("dashboard:set_language"), {"language": "xx", "next": "/"})
    assert User.objects.get(pk=owner.user.pk).preferred_language == ""


def test_profile_saves_name_and_language_without_logging_the_name(client, shop):
    _seller, owner = shop
    client.force_login(owner.user)
    response = client.post(
        reverse("dashboard:profile"),
        {"form": "profile", "display_name": "Li Wei", "preferred_language": "zh-hans"},
        follow=True,
    )
    assert response.status_code == 200
    user = User.objects.get(pk=owner.user.pk)
    assert (user.display_name, user.preferred_language) == ("Li Wei", "zh-hans")
    event = AuditEvent.objects.get(action="user.profile_updated")
    assert "Li Wei" not in str(event.changes)


def test_profile_keeps_what_was_typed_on_error(client, shop):
    _seller, owner = shop
    client.force_login(owner.user)
    response = client.post(
        reverse("dashboard:profile"), {"form": "profile", "display_name": "", "preferred_language": "ru"}
    )
    assert response.status_code == 200
    assert 'value="ru" selected' in response.content.decode()
    assert not AuditEvent.objects.filter(action="user.profile_updated").exists()


def test_password_change_keeps_this_session_and_checks_the_old_password(client, shop):
    seller, owner = shop
    client.force_login(owner.user)
    bad = client.post(
        reverse("dashboard:profile"),
        {
            "form": "password",
            "old_password": "wrong-password-x",
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert "Your current password is not correct." in bad.content.decode()
    good = client.post(
        reverse("dashboard:profile"),
        {
            "form": "password",
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert good.status_code == 302
    assert User.objects.get(pk=owner.user.pk).check_password("a-new-long-passphrase")
    assert client.get(reverse("dashboard:overview", args=[seller.pk])).status_code == 200


def test_bulk_suspend_asks_first_then_suspends_and_reports(client, shop):
    seller, owner = shop
    ivan = make_member(seller, user__display_name="Ivan")
    olga = make_member(seller, user__display_name="Olga")
    client.force_login(owner.user)
    url = reverse("accounts:bulk_action", args=[seller.pk])
    ask = client.post(url, {"action": "suspend", "ids": [ivan.pk, olga.pk]})
    page = ask.content.decode()
    assert "Ivan, Olga will be signed out everywhere" in page
    ivan.refresh_from_db()
    assert ivan.status == MembershipStatus.ACTIVE
    done = client.post(url, {"action": "suspend", "ids": [ivan.pk, olga.pk], "confirmed": "1"}, follow=True)
    assert "Suspended: Ivan, Olga." in done.content.decode()
    assert set(seller.memberships.filter(status="suspended").values_list("pk", flat=True)) == {
        ivan.pk,
        olga.pk,
    }
    assert AuditEvent.objects.filter(action="member.suspended").count() == 2


def test_bulk_resend_reports_people_it_could_not_resend(client, shop):
    seller, owner = shop
    invited = make_member(seller, status=MembershipStatus.INVITED, user__display_name="Nina")
    active = make_member(seller, user__display_name="Pavel")
    client.force_login(owner.user)
    url = reverse("accounts:bulk_action", args=[seller.pk])
    done = client.post(
        url, {"action": "resend", "ids": [invited.pk, active.pk], "confirmed": "1"}, follow=True
    )
    page = done.content.decode()
    assert "New invitations sent to: Nina." in page
    assert "Pavel: Only a pending invitation can be resent." in page


def test_bulk_action_ignores_ids_of_another_seller(client, shop):
    seller, owner = shop
    other_seller, _other_owner = make_seller(name="Other")
    foreign = make_member(other_seller)
    client.force_login(owner.user)
    url = reverse("accounts:bulk_action", args=[seller.pk])
    client.post(url, {"action": "suspend", "ids": [foreign.pk], "confirmed": "1"})
    foreign.refresh_from_db()
    assert foreign.status == MembershipStatus.ACTIVE


def test_members_search_filter_and_sort(client, shop):
    seller, owner = shop
    make_member(seller, user__display_name="Anna", user__email="anna@example.com")
    make_member(seller, user__display_name="Boris", status=MembershipStatus.SUSPENDED)
    client.force_login(owner.user)
    url = reverse("accounts:members", args=[seller.pk])
    page = client.get(url, {"q": "anna"}).content.decode()
    assert "Anna" in page and "Boris" not in page
    page = client.get(url, {"status": "suspended"}).content.decode()
    assert "Boris" in page and "Anna" not in page
    page = client.get(url, {"sort": "-name"}).content.decode()
    assert page.index("Boris") < page.index("Anna")
    assert 'aria-sort="descending"' in page


def test_overview_shows_pending_inactive_and_activity(client, shop):
    seller, owner = shop
    from accounts import services

    services.invite_member(actor=owner.user, seller=seller, email="nina@example.com", display_name="Nina")
    make_member(seller, user__display_name="Sleepy")
    client.force_login(owner.user)
    page = client.get(reverse("dashboard:overview", args=[seller.pk])).content.decode()
    pending = page[page.index('id="pending"') : page.index('id="inactive"')]
    assert "Nina" in pending
    inactive = page[page.index('id="inactive"') : page.index('id="activity"')]
    assert "Sleepy" in inactive
    activity = page[page.index('id="activity"') :]
    assert "invited Nina" in activity


def test_times_are_shown_in_the_sellers_time_zone(client):
    seller, owner = make_seller(name="Harbin")
    seller.time_zone = "Asia/Shanghai"
    seller.save(update_fields=["time_zone"])
    from accounts import services

    services.invite_member(actor=owner.user, seller=seller, email="nina@example.com", display_name="Nina")
    client.force_login(owner.user)
    page = client.get(reverse("dashboard:overview", args=[seller.pk])).content.decode()
    activity = page[page.index('id="activity"') :]
    assert '+08:00"' in activity
    seller.time_zone = "Europe/Moscow"
    seller.save(update_fields=["time_zone"])
    page = client.get(reverse("dashboard:overview", args=[seller.pk])).content.decode()
    assert '+03:00"' in page[page.index('id="activity"') :]


@pytest.mark.django_db
def test_recent_activity_is_shown_only_to_those_who_may_read_the_audit_log(client, world):
    seller, clerk = world["seller"], world["clerk"]
    overview = reverse("dashboard:overview", kwargs={"seller_id": seller.pk})
    clerk_page = reverse("accounts:member", kwargs={"seller_id": seller.pk, "membership_id": clerk.pk})
    plain = make_member(seller)
    client.force_login(plain.user)
    for url in (overview, clerk_page):
        html = client.get(url).content.decode()
        assert "Recent activity" not in html and "gave" not in html, url
    # Their own page shows their own activity
    own = reverse("accounts:member", kwargs={"seller_id": seller.pk, "membership_id": plain.pk})
    assert "Recent activity" in client.get(own).content.decode()
    client.force_login(world["owner"].user)
    for url in (overview, clerk_page):
        html = client.get(url).content.decode()
        assert "Recent activity" in html and "gave" in html, url
