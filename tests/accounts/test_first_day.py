"""An owner's first minutes: signing up in their own language, signing in before confirming, and choosing a
time zone they can read."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts import services, time_zones
from accounts.forms import SellerSettingsForm, SignUpForm
from accounts.models import Invitation, InvitationKind, Seller, User
from audit.models import AuditEvent
from tests.mail import link_in

pytestmark = [pytest.mark.django_db]

PASSWORD = "a-long-test-passphrase-42"

SIGN_UP = {
    "seller_name": "茶馆",
    "display_name": "王芳",
    "email": "wang@example.com",
    "password": PASSWORD,
    "time_zone": "Asia/Shanghai",
}


@pytest.mark.parametrize(
    ("accept_language", "expected", "zone"),
    [("zh-CN,zh;q=0.9,en;q=0.5", "zh-hans", "Asia/Shanghai"), ("ru-RU,ru;q=0.9", "ru", "Europe/Moscow")],
)
def test_the_sign_up_form_starts_in_the_browsers_language(client, accept_language, expected, zone):
    response = client.get(reverse("accounts:sign_up"), HTTP_ACCEPT_LANGUAGE=accept_language)
    form = response.context["form"]
    assert form["language"].value() == expected
    assert form["time_zone"].value() == zone
    assert f'<option value="{expected}" selected>' in response.content.decode()


def test_the_language_picked_in_the_header_wins_over_the_browser(client):
    client.cookies["django_language"] = "ru"
    response = client.get(reverse("accounts:sign_up"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.context["form"]["language"].value() == "ru"


def test_signing_up_from_a_chinese_browser_sends_the_e_mail_and_makes_the_seller_chinese(
    client, django_capture_on_commit_callbacks
):
    """What a browser submits: the form as served, with the language field left as it came."""
    page = client.get(reverse("accounts:sign_up"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    data = {**SIGN_UP, "language": page.context["form"]["language"].value()}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:sign_up"), data, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    seller = Seller.objects.get(name="茶馆")
    assert seller.default_language == "zh-hans"
    assert User.objects.get(email="wang@example.com").preferred_language == "zh-hans"
    assert "确认" in mail.outbox[0].subject


def test_an_unknown_browser_language_starts_in_english():
    assert SignUpForm(language="de")["language"].value() == "en"


# --- signing in before confirming -----------------------------------------------------------------


@pytest.fixture
def unconfirmed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.sign_up_seller(**SIGN_UP, language="en")
    mail.outbox.clear()
    return membership


def sign_in(client, email, password):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_signing_in_before_confirming_says_so_and_offers_a_new_link(client, unconfirmed):
    response = sign_in(client, "WANG@example.com", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    assert "not confirmed yet" in page
    assert "The e-mail address or password is not correct." not in page
    assert reverse("accounts:resend_confirmation") in page


def test_a_wrong_password_for_an_unconfirmed_address_reveals_nothing(client, unconfirmed, owner):
    """Without the password, an unconfirmed address answers exactly like a confirmed one or none at all."""
    pages = [
        sign_in(client, email, "not-the-password").content.decode()
        for email in ("wang@example.com", owner.email, "nobody@example.com")
    ]
    for page in pages:
        assert "The e-mail address or password is not correct." in page
        assert "not confirmed" not in page
        assert reverse("accounts:resend_confirmation") not in page
    assert "_ozonseat_unconfirmed_user" not in client.session


def test_only_the_sign_in_form_lets_an_unconfirmed_user_through_the_backend(unconfirmed):
    from django.contrib.auth import authenticate

    assert authenticate(username="wang@example.com", password=PASSWORD) is None


def test_the_new_link_confirms_and_the_old_one_stops_working(
    client, unconfirmed, django_capture_on_commit_callbacks
):
    old = Invitation.objects.get(membership=unconfirmed)
    Invitation.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(minutes=5))
    sign_in(client, "wang@example.com", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:resend_confirmation"))
    assert response.status_code == 200 and "wang@example.com" in response.content.decode()
    old.refresh_from_db()
    assert old.revoked_at is not None
    new = Invitation.objects.get(membership=unconfirmed, revoked_at__isnull=True)
    assert new.kind == InvitationKind.SIGNUP and len(mail.outbox) == 1
    event = AuditEvent.objects.get(action="auth.confirmation_resent")
    assert event.actor_user_id == unconfirmed.user_id and event.seller_id == unconfirmed.seller_id
    assert event.changes == {"invitation_id": [None, new.pk]}
    path, _token = link_in(mail.outbox[0].body)
    client.get(path)
    client.post(reverse("accounts:confirm_email", args=["pending"]))
    assert sign_in(client, "wang@example.com", PASSWORD).status_code == 302
    # the link can be asked for once per proven password: the session no longer allows another
    assert client.post(reverse("accounts:resend_confirmation")).status_code == 302


def test_a_new_link_needs_the_password_first(client, unconfirmed):
    response = client.post(reverse("accounts:resend_confirmation"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert Invitation.objects.filter(membership=unconfirmed).count() == 1


def test_a_second_link_within_a_minute_is_not_sent(unconfirmed, django_capture_on_commit_callbacks):
    first = Invitation.objects.get(membership=unconfirmed)
    soon, later = first.created_at + timedelta(seconds=30), first.created_at + timedelta(seconds=61)
    with (
        mock.patch("accounts.services.timezone.now", return_value=soon),
        pytest.raises(services.Conflict) as refused,
    ):
        services.resend_sign_up_confirmation(user_id=unconfirmed.user_id)
    assert refused.value.code == "too_soon"
    with (
        mock.patch("accounts.services.timezone.now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.resend_sign_up_confirmation(user_id=unconfirmed.user_id)
    assert Invitation.objects.filter(membership=unconfirmed, revoked_at__isnull=True).count() == 1
    assert len(mail.outbox) == 1


def test_a_confirmed_owner_gets_no_new_confirmation_link(owner_membership):
    with pytest.raises(services.Conflict):
        services.resend_sign_up_confirmation(user_id=owner_membership.user_id)


# --- time zones -----------------------------------------------------------------------------------

# A fixed moment: Moscow, Shanghai and Almaty keep no daylight saving time, so their offsets are known.
MOMENT = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


def choices_at(language):
    with mock.patch("accounts.time_zones.timezone.now", return_value=MOMENT), translation.override(language):
        return time_zones.time_zone_choices()


def test_time_zones_are_grouped_with_china_russia_and_kazakhstan_first_in_the_readers_language():
    groups = choices_at("zh-hans")
    assert groups[0][0] == "UTC"
    assert [label for label, _options in groups[1:4]] == ["中国", "俄罗斯", "哈萨克斯坦"]
    assert ("Asia/Shanghai", "(UTC+08:00) 上海") in groups[1][1]
    assert ("Europe/Moscow", "(UTC+03:00) 莫斯科") in groups[2][1]
    russian = dict(choices_at("ru"))
    # (Kazakhstan moved Almaty from UTC+6 to UTC+5 in 2024: the offset comes from the tz database at hand.)
    assert dict(russian["Казахстан"])["Asia/Almaty"].endswith(") Алматы")
    assert ("Europe/Berlin", "(UTC+01:00) Германия · Берлин") in russian["Европа"]


def test_every_offered_zone_is_a_real_zone_listed_once():
    for language in ("en", "ru", "zh-hans"):
        values = [value for _label, options in choices_at(language)[1:] for value, _text in options]
        assert len(values) == len(set(values)) > 300
        assert all(time_zones.is_time_zone(value) for value in values)
        assert "Europe/Moscow" in values and "Asia/Shanghai" in values


def test_a_zone_stored_before_the_list_knew_it_is_kept_on_seller_settings():
    form = SellerSettingsForm(initial={"time_zone": "Etc/GMT-3"})
    assert '<option value="Etc/GMT-3" selected>Etc/GMT-3</option>' in str(form["time_zone"])
    with translation.override("zh-hans"):
        form = SellerSettingsForm(initial={"time_zone": "Asia/Shanghai"})
        assert '<optgroup label="中国">' in str(form["time_zone"])


def test_seller_settings_offer_the_translated_time_zones(client, seller, owner):
    client.force_login(owner)
    response = client.get(reverse("accounts:seller_settings", args=[seller.pk]), HTTP_ACCEPT_LANGUAGE="ru")
    page = response.content.decode()
    assert '<optgroup label="Россия">' in page and "Москва" in page
    seller.time_zone = "Asia/Shanghai"
    seller.save()
    response = client.post(
        reverse("accounts:seller_settings", args=[seller.pk]),
        {
            "name": seller.name,
            "default_language": "ru",
            "time_zone": "Asia/Almaty",
            "invitation_lifetime_hours": 72,
            "access_review_interval_days": 90,
        },
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.time_zone == "Asia/Almaty"


def test_a_made_up_time_zone_is_refused_with_a_form_error(client):
    response = client.post(
        reverse("accounts:sign_up"), {**SIGN_UP, "language": "en", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200 and response.context["form"].errors["time_zone"]
    assert not Seller.objects.filter(name="茶馆").exists()
