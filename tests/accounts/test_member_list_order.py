"""The members list sorts and searches by columns the database keeps (Membership.sort_name, search_text;
accounts migration 0010): the same members in the same order as the member_name() expression it replaced,
on generated people (ties on names, names left empty, invited and joined, removed), and the same search
results as matching the e-mail, the name and the job title one by one. The columns follow every change:
a person renaming themselves or changing their e-mail, a member joining, a job title edited."""

import itertools

import pytest
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership, MembershipKind, MembershipStatus, User
from accounts.selectors import list_members, member_name, people_options, with_member_fields
from tests.factories import SellerFactory, UserFactory, make_member, make_seller

pytestmark = pytest.mark.django_db

_counter = itertools.count()
NAMES = st.sampled_from(["", "Anna", "anna", "Boris", "Ivan Petrov", "Иван", "李伟", "Zoë", "a_b%c"])
PEOPLE = st.lists(
    st.tuples(
        NAMES,  # the person's own name
        NAMES,  # the name the seller typed
        st.sampled_from(["active", "suspended", "invited", "removed"]),
        st.booleans(),  # has ever accepted (activated_at)
        st.sampled_from(["", "Picker", "Анна's helper", "Boss"]),
        st.sampled_from(["x", "anna", "boss", "zz"]),  # the e-mail's local part
    ),
    min_size=1,
    max_size=12,
)
SEARCHES = st.sampled_from(
    ["", "a", "ANNA", "ann", "Boss", "picker", "иван", "李", "@", "x", "_", "%", "zz@"]
)


def _seller_with(people):
    seller = SellerFactory()
    owner = UserFactory(display_name="")
    Membership.objects.create(user=owner, seller=seller, kind=MembershipKind.OWNER, status="active")
    for own, typed, status, accepted, job, local in people:
        user = UserFactory(display_name=own, email=f"{local}{next(_counter)}@example.com")
        Membership.objects.create(
            user=user,
            seller=seller,
            status=status,
            activated_at=timezone.now() if accepted else None,
            invited_name=typed,
            job_title=job,
        )
    return seller


def _old_list(seller, search=""):
    """The members list as it was: ordered and searched by the member_name() expression."""
    queryset = (
        Membership.objects.filter(seller=seller)
        .exclude(status=MembershipStatus.REMOVED)
        .annotate(old_name=member_name())
    )
    if search:
        queryset = queryset.filter(
            Q(user__email__icontains=search) | Q(old_name__icontains=search) | Q(job_title__icontains=search)
        )
    return list(queryset.order_by("kind", "old_name", "pk").values_list("pk", flat=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PEOPLE, search=SEARCHES, per_page=st.integers(min_value=1, max_value=5))
def test_the_list_and_its_search_are_the_ones_of_the_name_expression(people, search, per_page):
    seller = _seller_with(people)
    for membership in with_member_fields(Membership.objects.filter(seller=seller)).annotate(
        old_name=member_name()
    ):
        assert membership.sort_name == membership.display_name == membership.old_name
        email, name, job = membership.search_text.split("\x1f")
        assert (email, name, job) == (membership.user.email, membership.display_name, membership.job_title)
    listed = list(list_members(seller, search=search).values_list("pk", flat=True))
    assert listed == _old_list(seller, search)
    # page after page: every member once, in that order, ties on names included
    paginator = Paginator(list_members(seller, search=search), per_page)
    paged = [m.pk for number in paginator.page_range for m in paginator.page(number).object_list]
    assert paged == listed


def test_a_search_with_the_separator_is_asked_of_each_column():
    seller = _seller_with([("Anna", "", "active", True, "Boss", "anna")])
    assert list(list_members(seller, search="Anna\x1fBoss")) == []
    assert len(list_members(seller, search="anna")) == 1


def test_the_columns_follow_renames_e_mail_changes_joining_and_job_titles():
    seller, _owner = make_seller()
    invited = make_member(
        seller,
        status=MembershipStatus.INVITED,
        activated_at=None,
        invited_name="Typed Name",
        user__display_name="Own Name",
        user__email="person@example.com",
    )
    other_seller, _ = make_seller(name="Elsewhere")
    elsewhere = make_member(other_seller, user=invited.user)

    def columns(membership):
        membership.refresh_from_db()
        return membership.sort_name, membership.search_text

    assert columns(invited) == ("Typed Name", "person@example.com\x1fTyped Name\x1f")
    assert columns(elsewhere)[0] == "Own Name"  # joined there: their own name
    User.objects.filter(pk=invited.user_id).update(display_name="Renamed", email="new@example.com")
    assert columns(invited) == ("Typed Name", "new@example.com\x1fTyped Name\x1f")
    assert columns(elsewhere) == ("Renamed", "new@example.com\x1fRenamed\x1f")
    Membership.objects.filter(pk=invited.pk).update(status="active", activated_at=timezone.now())
    assert columns(invited)[0] == "Renamed"  # joined: now their own name
    invited.job_title = "Packer"
    invited.save()
    assert columns(invited) == ("Renamed", "new@example.com\x1fRenamed\x1fPacker")
    User.objects.filter(pk=invited.user_id).update(display_name="")
    assert columns(invited)[0] == "new@example.com"  # no name: the e-mail, as display_name shows
    assert list(
        Membership.objects.filter(pk=invited.pk).annotate(n=member_name()).values_list("n", flat=True)
    ) == ["new@example.com"]


def test_the_list_sorted_by_name_both_ways_is_the_expressions_order(client):
    from django.urls import reverse

    seller = _seller_with(
        [
            ("Anna", "", "active", True, "", "a"),
            ("anna", "", "active", True, "", "b"),
            ("", "Boris", "invited", False, "", "c"),
            ("Zoë", "Zed", "suspended", True, "", "d"),
        ]
    )
    owner = Membership.objects.get(seller=seller, kind=MembershipKind.OWNER)
    client.force_login(owner.user)
    expected = list(
        Membership.objects.filter(seller=seller)
        .exclude(status="removed")
        .annotate(old_name=member_name())
        .order_by("old_name", "pk")
        .values_list("pk", flat=True)
    )
    for sort, order in (("name", expected), ("-name", expected[::-1])):
        response = client.get(reverse("accounts:members", args=[seller.pk]), {"sort": sort})
        assert response.status_code == 200
        assert [m.pk for m in response.context["members"]] == order


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PEOPLE, search=SEARCHES)
def test_the_audit_person_filter_offers_the_people_of_the_name_expression(people, search):
    """people_options sorts by the kept name and narrows a search by search_text first: the same people
    (removed ones too), in the same order, as by member_name() and the e-mail."""
    seller = _seller_with(people)
    queryset = Membership.objects.filter(seller=seller).annotate(old_name=member_name())
    if search:
        queryset = queryset.filter(Q(old_name__icontains=search) | Q(user__email__icontains=search))
    expected = list(queryset.order_by("old_name", "pk").values_list("user_id", "old_name"))
    rows, more = people_options(seller, search)
    assert rows == expected[:20] and more == (len(expected) > 20)
