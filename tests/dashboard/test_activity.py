"""Recent activity (the overview's and a member page's) keeps working after routine events that once broke
it: a picker's refused click, an export. It is the audit log's own description, in the reader's language."""

import pytest
from django.urls import reverse

from accounts.models import User
from audit import events
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def activity_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    return page[page.index('id="activity"') :]


def test_a_pickers_refused_click_leaves_the_owners_overview_and_the_pickers_page_working(client, world):
    seller, owner, picker = world["seller"], world["owner"], world["clerk"]
    User.objects.filter(pk=picker.user_id).update(display_name="Ivan Petrov")
    client.force_login(picker.user)
    assert client.get(reverse("audit:events", args=[seller.pk])).status_code == 403
    assert AuditEvent.objects.filter(seller_id=seller.pk, action=events.ACCESS_DENIED).exists()
    client.force_login(owner.user)
    sentence = f"Ivan Petrov was refused access to /sellers/{seller.pk}/audit/"
    assert sentence in activity_of(client, reverse("dashboard:overview", args=[seller.pk]))
    assert sentence in activity_of(client, reverse("accounts:member", args=[seller.pk, picker.pk]))


def test_an_export_leaves_the_owners_overview_and_member_page_working(client, world):
    seller, owner = world["seller"], world["owner"]
    User.objects.filter(pk=owner.user_id).update(display_name="Li Wei")
    client.force_login(owner.user)
    export = client.get(reverse("audit:export", args=[seller.pk]), {"format": "jsonl"})
    assert export.status_code == 200
    b"".join(export.streaming_content)
    sentence = "Li Wei exported the audit log (JSON Lines)"
    assert sentence in activity_of(client, reverse("dashboard:overview", args=[seller.pk]))
    assert sentence in activity_of(client, reverse("accounts:member", args=[seller.pk, owner.pk]))


def test_recent_activity_speaks_the_readers_language_with_names_not_ids(client, world):
    seller, owner, picker = world["seller"], world["owner"], world["clerk"]
    User.objects.filter(pk=owner.user_id).update(display_name="李伟", preferred_language="zh-hans")
    User.objects.filter(pk=picker.user_id).update(display_name="Иван Петров")
    client.force_login(owner.user)
    activity = activity_of(client, reverse("accounts:member", args=[seller.pk, picker.pk]))
    # The grant of the picker's role, limited to the Khimki warehouse (see the world fixture).
    assert "李伟 为 Иван Петров 分配了角色 快递员 / 拣货员" in activity
    assert "#" not in activity and "warehouse" not in activity
