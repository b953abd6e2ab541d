"""Every seller-scoped dashboard page: renders for the owner, renders read-only for an analyst (no edit
controls, edits refused with 403), and answers 404 to a member of another seller."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import MembershipStatus, Seller


def _seller_url_names(resolver=None, namespace=""):
    """Every named URL pattern whose route takes the seller id: new pages join this test automatically."""
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            prefix_has_seller = "seller_id" in str(pattern.pattern)
            for name in _seller_url_names(pattern, inner):
                names.add(name)
            if prefix_has_seller:
                names |= {f"{inner}{p.name}" for p in pattern.url_patterns if isinstance(p, URLPattern)}
        elif isinstance(pattern, URLPattern) and pattern.name and "seller_id" in str(pattern.pattern):
            names.add(f"{namespace}{pattern.name}")
    return names


# name -> (extra URL kwargs from the world, page readable by any member?, POST data of an edit)
PAGES = {
    "dashboard:overview": (lambda w: {}, True, None),
    "dashboard:my_access": (lambda w: {}, True, None),
    "accounts:members": (lambda w: {}, True, None),
    "accounts:member": (
        lambda w: {"membership_id": w["clerk"].pk},
        True,
        {"job_title": "Changed", "ends_at": ""},
    ),
    "accounts:seller_settings": (
        lambda w: {},
        False,
        {
            "name": "Renamed",
            "default_language": "ru",
            "time_zone": "Europe/Moscow",
            "invitation_lifetime_hours": "48",
            "access_review_interval_days": "90",
        },
    ),
    "accounts:invite": (lambda w: {}, False, {"email": "new@example.com", "display_name": "New"}),
    "accounts:member_action": (
        lambda w: {"membership_id": w["clerk"].pk, "action": "suspend"},
        False,
        {},
    ),
    "accounts:bulk_action": (lambda w: {}, False, {"action": "suspend", "confirmed": "1"}),
    "accounts:transfer_ownership": (lambda w: {}, False, {"confirm": "on"}),
}


def test_the_table_covers_every_seller_page():
    # The REST API has its own table of every route (tests/test_isolation.py); this one is every page.
    assert {name for name in _seller_url_names() if not name.startswith("api:")} == set(PAGES)


def _url(world, name, seller=None):
    kwargs, _readable, _post = PAGES[name]
    return reverse(name, kwargs={"seller_id": (seller or world["seller"]).pk, **kwargs(world)})


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index('<main id="main"') :]


def _get_or_post(client, name, url):
    if name == "accounts:bulk_action":  # POST-only: the confirmation step is its page
        return client.post(url, {"action": "suspend", "ids": []})
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_owner_sees_every_page(client, world, name):
    client.force_login(world["owner"].user)
    response = _get_or_post(client, name, _url(world, name))
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert "Ozon Shop" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_analyst_reads_without_edit_controls_or_is_refused(client, world, name):
    client.force_login(world["analyst"].user)
    _kwargs, readable, _post = PAGES[name]
    response = _get_or_post(client, name, _url(world, name))
    if readable:
        assert response.status_code == 200
        main = _main(response)
        assert 'method="post"' not in main
        assert not re.search(r"/members/(new|\d+/(suspend|remove|reactivate|resend|revoke))/", main)
        assert "Add sub-account" not in main
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(name for name, page in PAGES.items() if page[2] is not None))
def test_analyst_edits_are_refused_and_change_nothing(client, world, name):
    client.force_login(world["analyst"].user)
    _kwargs, _readable, data = PAGES[name]
    clerk = world["clerk"]
    response = client.post(_url(world, name), {**data, "ids": [clerk.pk], "new_owner": clerk.pk})
    assert response.status_code == 403
    clerk.refresh_from_db()
    assert clerk.status == MembershipStatus.ACTIVE and clerk.job_title == "Clerk"
    assert Seller.objects.get(pk=world["seller"].pk).name == "Ozon Shop"
    assert not world["seller"].memberships.filter(user__email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_member_of_another_seller_gets_404(client, world, name):
    client.force_login(world["other_owner"].user)
    response = _get_or_post(client, name, _url(world, name))
    assert response.status_code == 404
    assert "Ozon Shop" not in response.content.decode()


@pytest.mark.django_db
def test_owner_cannot_reach_another_sellers_member_through_own_seller(client, world):
    client.force_login(world["other_owner"].user)
    url = reverse(
        "accounts:member", kwargs={"seller_id": world["other_seller"].pk, "membership_id": world["clerk"].pk}
    )
    assert client.get(url).status_code == 404
