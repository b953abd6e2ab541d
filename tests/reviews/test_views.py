"""The review pages: a reviewer's queue with filters, answering, keeping the recommended, starting,
closing, the report (page, CSV, printable), the overview's progress card and the settings."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import MembershipStatus, Seller, User
from reviews import opening, services
from reviews.models import AccessReview, ReviewItem
from reviews.recommendations import explain
from roles import services as roles_services
from roles.models import Role
from tests.factories import make_member
from tests.reviews.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def review(team):
    [review_id] = opening.open_due_reviews(now=NOW)
    return AccessReview.objects.get(pk=review_id)


def signed_in(membership, language="en") -> Client:
    """Signed in, reading pages in English (the e-mail tests prove the other languages)."""
    User.objects.filter(pk=membership.user_id).update(preferred_language=language)
    client = Client()
    client.force_login(membership.user)
    return client


def queue_url(review, **query):
    from urllib.parse import urlencode

    url = reverse("reviews:review", args=[review.seller_id, review.pk])
    return f"{url}?{urlencode(query)}" if query else url


def test_a_reviewers_queue_lists_their_waiting_items_only(team, review):
    page = signed_in(team.kz_lead).get(queue_url(review, state="waiting"))
    assert page.status_code == 200
    text = page.content.decode()
    assert team.kz_picker.user.email in text and team.service.user.email in text
    assert team.ru_seller.user.email not in text and team.owner.user.email not in text
    assert "remove: no sign-in or API use for 50 days" in text
    with translation.override("ru"):  # and in the lead's own language
        explained = explain(ReviewItem.objects.get(review=review, membership=team.kz_picker))
    assert explained == "удалить: нет входов и обращений к API 50 дней"
    assert explained in signed_in(team.kz_lead, "ru").get(queue_url(review)).content.decode()


def test_the_queue_filters_by_state_recommendation_and_search(team, review):
    owner = signed_in(team.owner)
    text = owner.get(queue_url(review, recommendation="remove")).content.decode()
    assert team.kz_picker.user.email in text and team.ru_seller.user.email not in text
    text = owner.get(queue_url(review, q=team.ru_seller.user.email)).content.decode()
    assert team.ru_seller.user.email in text and team.kz_picker.user.email not in text
    text = owner.get(queue_url(review, mine=1)).content.decode()  # asked of the owner: own item, the admin's
    assert team.admin.user.email in text and team.ru_seller.user.email not in text
    services.decide_item(
        actor=team.owner.user,
        item=ReviewItem.objects.get(review=review, membership=team.ru_seller),
        decision="keep",
    )
    assert team.ru_seller.user.email not in owner.get(queue_url(review)).content.decode()
    assert team.ru_seller.user.email in owner.get(queue_url(review, state="answered")).content.decode()


def add_kz_pickers(team, count):
    picker = Role.objects.get(seller=team.seller, template_key="courier_assembler")
    for _ in range(count):
        member = make_member(team.seller)
        roles_services.grant_role(
            actor=team.owner.user,
            membership=member,
            role=picker,
            scope_kind="warehouses",
            warehouses=[team.kz_warehouse],
        )


def queue_queries(team):
    AccessReview.objects.all().delete()
    [review_id] = opening.open_due_reviews(now=NOW)
    client = signed_in(team.kz_lead)
    client.get(queue_url(AccessReview.objects.get(pk=review_id)))  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(queue_url(AccessReview.objects.get(pk=review_id)))
    assert response.status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_queries_for_2_and_70_items(team):
    few = queue_queries(team)
    add_kz_pickers(team, 68)
    assert queue_queries(team) == few


def test_a_reviewer_answers_through_the_page(team, review):
    item = ReviewItem.objects.get(review=review, membership=team.kz_picker)
    url = reverse("reviews:item", args=[team.seller.pk, review.pk, item.pk])
    client = signed_in(team.kz_lead)
    page = client.get(url)
    assert page.status_code == 200 and "Almaty FBS" in page.content.decode()
    refused = client.post(url, {"decision": "change", "comment": ""})  # nothing ticked, nothing changed
    assert refused.status_code == 200 and "Nothing has changed" in refused.content.decode()
    response = client.post(url + "?back=state%3Dwaiting", {"decision": "remove", "comment": "Left in May."})
    assert response.status_code == 302 and response["Location"].endswith("?state=waiting")
    item.refresh_from_db()
    team.kz_picker.refresh_from_db()
    assert (
        item.decision == "remove" and item.comment == "Left in May." and item.decided_by == team.kz_lead.user
    )
    assert team.kz_picker.status == MembershipStatus.REMOVED


def test_a_reviewer_cannot_open_an_item_outside_their_reach(team, review):
    item = ReviewItem.objects.get(review=review, membership=team.ru_seller)
    url = reverse("reviews:item", args=[team.seller.pk, review.pk, item.pk])
    assert signed_in(team.kz_lead).get(url).status_code == 404
    assert signed_in(team.kz_lead).post(url, {"decision": "remove"}).status_code == 404
    own = ReviewItem.objects.get(review=review, membership=team.kz_lead)
    own_url = reverse("reviews:item", args=[team.seller.pk, review.pk, own.pk])
    assert signed_in(team.kz_lead).get(own_url).status_code == 404


def test_keep_recommended_from_the_queue(team, review):
    url = reverse("reviews:keep_recommended", args=[team.seller.pk, review.pk])
    response = signed_in(team.kz_lead).post(url, {"query": "state=waiting"})
    assert response.status_code == 302
    decided = dict(
        ReviewItem.objects.filter(review=review).exclude(decision="").values_list("membership_id", "decision")
    )
    assert decided == {team.service.pk: "keep"}  # the picker is recommended for removal


def test_the_owner_starts_a_review_from_the_page(team):
    client = signed_in(team.owner)
    url = reverse("reviews:start", args=[team.seller.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"markets": ["RU"]})
    review = AccessReview.objects.get(seller=team.seller)
    assert response.status_code == 302 and response["Location"] == queue_url(review)
    assert review.selection == {"markets": ["RU"]}
    assert signed_in(team.admin).get(url).status_code == 403  # only the owner


def test_the_owner_closes_a_review(team, review):
    url = reverse("reviews:close", args=[team.seller.pk, review.pk])
    assert signed_in(team.admin).post(url).status_code == 403
    client = signed_in(team.owner)
    assert "not been reviewed" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    review.refresh_from_db()
    assert review.status == "closed"


def test_the_report_as_page_csv_and_printable_page_for_the_sellers_auditors(team, review):
    services.decide_item(
        actor=team.kz_lead.user,
        item=ReviewItem.objects.get(review=review, membership=team.kz_picker),
        decision="remove",
        comment="=HYPERLINK(1)",
    )
    services.close_review(actor=team.owner.user, review=review)
    review.refresh_from_db()
    owner = signed_in(team.owner)
    args = [team.seller.pk, review.pk]
    page = owner.get(reverse("reviews:report", args=args)).content.decode()
    assert (
        review.closing_digest in page
        and team.kz_picker.user.email in page
        and team.kz_lead.user.email in page
    )
    printable = owner.get(reverse("reviews:report_print", args=args))
    assert printable.status_code == 200 and review.closing_digest in printable.content.decode()
    response = owner.get(reverse("reviews:report_csv", args=args))
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert ["closing_audit_digest", review.closing_digest] in rows
    header = rows.index([*rows[rows.index([]) + 1]])
    table = [dict(zip(rows[header], row, strict=True)) for row in rows[header + 1 :]]
    assert len(table) == review.item_count
    picker = next(row for row in table if row["member_id"] == str(team.kz_picker.pk))
    assert picker["decision"] == "remove" and picker["decided_by"] == str(team.kz_lead.user)
    assert picker["comment"] == "'=HYPERLINK(1)"  # a formula is never passed to a spreadsheet
    assert "@ Almaty FBS (" in picker["roles"]  # the role's name is in the reader's language
    # reviewers without audit.view do not read the whole seller's report
    assert signed_in(team.kz_lead).get(reverse("reviews:report", args=args)).status_code == 403


def test_the_overview_shows_a_reviewers_progress(team, review):
    text = signed_in(team.kz_lead).get(reverse("dashboard:overview", args=[team.seller.pk])).content.decode()
    assert "0 of 2 answered" in text and "2 wait for you" in text
    assert reverse("reviews:reviews", args=[team.seller.pk]) in text  # in the navigation
    plain = make_member(team.seller)
    text = signed_in(plain).get(reverse("dashboard:overview", args=[team.seller.pk])).content.decode()
    assert "answered" not in text and reverse("reviews:reviews", args=[team.seller.pk]) not in text


def test_the_settings_page_sets_the_review_policy(team):
    url = reverse("accounts:seller_settings", args=[team.seller.pk])
    data = {
        "name": team.seller.name,
        "default_language": "en",
        "time_zone": "Asia/Almaty",
        "invitation_lifetime_hours": 72,
        "access_review_interval_days": 60,
        "access_review_length_days": 10,
        "access_review_due_policy": "suspend",
    }
    assert signed_in(team.owner).post(url, data).status_code == 302
    seller = Seller.objects.get(pk=team.seller.pk)
    assert (seller.access_review_length_days, seller.access_review_due_policy) == (10, "suspend")
    refused = signed_in(team.owner).post(url, {**data, "access_review_length_days": 61})
    assert (
        refused.status_code == 200 and "longer than the time between two reviews" in refused.content.decode()
    )
    refused = signed_in(team.owner).post(url, {**data, "access_review_due_policy": "delete"})
    assert refused.status_code == 200
    assert Seller.objects.get(pk=team.seller.pk).access_review_due_policy == "suspend"
