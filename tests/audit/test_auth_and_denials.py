import json

import pytest
from django.urls import reverse

from audit import events
from audit.models import AuditEvent
from audit.services import DENIALS_PER_WINDOW
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member, make_seller


def _raw(queryset) -> str:
    return json.dumps(list(queryset.values()), default=str, ensure_ascii=False)


def test_sign_in_is_recorded_in_every_seller_the_person_works_for(client, seller):
    other, _owner = make_seller(name="Other")
    member = make_member(seller)
    make_member(other, user=member.user)
    response = client.post(
        reverse("accounts:login"),
        {"username": member.user.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Firefox",
    )
    assert response.status_code == 302
    logins = AuditEvent.objects.filter(action=events.LOGIN)
    assert sorted(logins.values_list("seller_id", flat=True)) == sorted([seller.pk, other.pk])
    for event in logins:
        assert (event.actor_user_id, event.target_type, event.target_id) == (
            member.user_id,
            "user",
            member.user_id,
        )
        assert (event.shown_ip, event.shown_user_agent) == ("203.0.113.7", "Firefox")
        assert event.request_id


def test_sign_in_of_a_person_without_seller_goes_to_the_global_log(client, db):
    user = UserFactory()
    client.post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})
    event = AuditEvent.objects.get(action=events.LOGIN)
    assert event.seller_id is None and event.actor_user_id == user.pk


def test_failed_sign_in_for_an_existing_address_references_the_user_never_the_typed_values(client, seller):
    member = make_member(seller)
    typed_password = "Wrong-Password-Typed-123"
    response = client.post(
        reverse("accounts:login"), {"username": member.user.email.upper(), "password": typed_password}
    )
    assert response.status_code == 200
    failed = AuditEvent.objects.filter(action=events.LOGIN_FAILED)
    assert failed.count() == 1
    event = failed.get()
    assert (event.seller_id, event.target_type, event.target_id) == (seller.pk, "user", member.user_id)
    assert event.actor_user_id is None
    raw = _raw(AuditEvent.objects.all())
    assert member.user.email not in raw.lower() and typed_password not in raw


def test_failed_sign_in_for_an_unknown_address_has_no_seller_and_no_address(client, seller):
    client.post(reverse("accounts:login"), {"username": "nobody@example.org", "password": "whatever-123456"})
    event = AuditEvent.objects.get(action=events.LOGIN_FAILED)
    assert event.seller_id is None
    assert event.target_type == "" and event.target_id is None and event.actor_user_id is None
    assert "nobody@example.org" not in _raw(AuditEvent.objects.all())


def test_unknown_address_failures_from_one_ip_are_capped(client, db):
    for index in range(DENIALS_PER_WINDOW + 10):
        client.post(
            reverse("accounts:login"), {"username": f"x{index}@example.org", "password": "nope-nope-1"}
        )
    assert AuditEvent.objects.filter(action=events.LOGIN_FAILED).count() == DENIALS_PER_WINDOW


def test_sign_out_is_recorded(client, seller, owner):
    client.force_login(owner)
    client.post(reverse("accounts:logout"))
    event = AuditEvent.objects.get(action=events.LOGOUT)
    assert (event.seller_id, event.actor_user_id) == (seller.pk, owner.pk)


def test_a_member_without_the_permission_is_denied_and_it_is_recorded_once(client, seller):
    member = make_member(seller)
    client.force_login(member.user)
    url = reverse("audit:events", args=[seller.pk])
    assert client.get(url).status_code == 403
    assert client.get(url).status_code == 403
    denial = AuditEvent.objects.get(action=events.ACCESS_DENIED)
    assert denial.seller_id == seller.pk and denial.actor_user_id == member.user_id
    assert denial.changes == {
        "path": [None, url],
        "status": [None, 403],
        "permission": [None, "audit.view"],
    }


def test_a_foreign_seller_answers_404_and_is_recorded_outside_that_sellers_log(client, seller):
    other, _owner = make_seller(name="Other")
    member = make_member(seller)
    client.force_login(member.user)
    assert client.get(reverse("audit:events", args=[other.pk])).status_code == 404
    assert client.get(reverse("accounts:members", args=[other.pk])).status_code == 404
    denials = AuditEvent.objects.filter(action=events.ACCESS_DENIED)
    assert denials.count() == 2
    assert set(denials.values_list("seller_id", flat=True)) == {None}
    assert all(event.changes["requested_seller_id"] == [None, other.pk] for event in denials)
    assert not AuditEvent.objects.filter(seller_id=other.pk, action=events.ACCESS_DENIED).exists()


def test_a_scanner_walking_many_paths_leaves_a_bounded_number_of_events(client, seller):
    member = make_member(seller)
    client.force_login(member.user)
    for seller_id in range(seller.pk + 1000, seller.pk + 1000 + DENIALS_PER_WINDOW * 3):
        client.get(reverse("audit:events", args=[seller_id]))
    assert AuditEvent.objects.filter(action=events.ACCESS_DENIED).count() == DENIALS_PER_WINDOW


@pytest.mark.parametrize("name", ["audit:events", "audit:export"])
def test_the_owner_is_allowed(client, seller, owner, name):
    client.force_login(owner)
    response = client.get(reverse(name, args=[seller.pk]))
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=events.ACCESS_DENIED).exists()
