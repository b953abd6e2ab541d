"""Structural accessibility of every page: language, skip link, one h1, a label for every control,
unique ids and the current page marked in the navigation."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.dashboard.test_pages import PAGES, READ_ONLY_PAGES, _get_or_post, _url


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.ids: list[str] = []
        self.labels_for: set[str] = set()
        self.controls: list[dict] = []
        self.label_depth = 0
        self.skip_link = False
        self.current_links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.labels_for.add(attrs["for"])
        if tag == "a" and attrs.get("href") == "#main" and "skip-link" in attrs.get("class", ""):
            self.skip_link = True
        if tag == "a" and attrs.get("aria-current") == "page":
            self.current_links.append(attrs.get("href"))
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append({**attrs, "_tag": tag, "_wrapped": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1

    def unlabelled(self) -> list[dict]:
        return [
            control
            for control in self.controls
            if not control["_wrapped"]
            and control.get("id") not in self.labels_for
            and not control.get("aria-label")
            and not control.get("aria-labelledby")
        ]


def parse(response) -> Page:
    page = Page()
    page.feed(response.content.decode())
    return page


def check(page: Page) -> None:
    assert page.lang in ("en", "ru", "zh-hans")
    assert page.skip_link and "main" in page.ids
    assert page.h1 == 1
    assert page.unlabelled() == []
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_seller_pages_are_structurally_accessible(client, world, name):
    client.force_login(world["owner"].user)
    response = _get_or_post(client, name, _url(world, name))
    if response.status_code == 302 or response.streaming:
        return
    page = parse(response)
    check(page)
    assert len(page.current_links) <= 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", READ_ONLY_PAGES)
def test_read_only_pages_are_structurally_accessible(client, world, name):
    client.force_login(world["analyst"].user)
    page = parse(client.get(_url(world, name)))
    check(page)
    assert len(page.current_links) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "current"),
    [
        ("dashboard:overview", "dashboard:overview"),
        ("accounts:members", "accounts:members"),
        ("accounts:member", "accounts:members"),
        ("dashboard:my_access", "dashboard:my_access"),
        ("accounts:seller_settings", "accounts:seller_settings"),
    ],
)
def test_navigation_marks_the_current_section(client, world, name, current):
    client.force_login(world["owner"].user)
    page = parse(client.get(_url(world, name)))
    assert page.current_links == [reverse(current, args=[world["seller"].pk])]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/signup/", "/password-reset/", "/profile/"])
def test_account_pages_are_structurally_accessible(client, world, path):
    if path == "/profile/":
        client.force_login(world["owner"].user)
    check(parse(client.get(path)))
