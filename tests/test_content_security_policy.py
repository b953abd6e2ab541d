"""Content-Security-Policy on every page, and no inline script anywhere.

Walks every route of the URL configuration (the isolation suite's list of them, so a new route is walked
too), as the owner and as an anonymous visitor, and checks each HTML page: the policy header forbids inline
script, and the page has no <script> without src and no on…= event-handler attribute. The debug outbox, which
exists only with DEBUG on, is checked in a process of its own."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_dev_outbox import SCRIPT as OUTBOX_SCRIPT
from tests.test_isolation import (
    ADMIN_PREFIX,
    OBJECT_ARGUMENTS,
    ROUTES,
    all_routes,
    argument_names,
    build_world,
)
from tests.test_settings import run

pytestmark = [pytest.mark.django_db]


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append(f"<script> without src at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")


def inline_script_in(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    return finder.problems


def directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict_policy(response, where):
    policy = directives(response)
    assert policy, f"{where}: no Content-Security-Policy header"
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts == ["'self'"], f"{where}: script-src is {scripts}"
    assert policy.get("object-src") == ["'none'"] and policy.get("frame-ancestors") == ["'none'"], where


def test_the_inline_script_finder_finds_what_it_looks_for():
    assert inline_script_in('<p><script src="/static/a.js"></script></p>') == []
    assert len(inline_script_in("<script>alert(1)</script>")) == 1
    assert len(inline_script_in('<input onfocus="this.select()">')) == 1
    assert len(inline_script_in('<a href="javascript:void(0)">x</a>')) == 1


# Not pages (files), and fetching one writes an event that the overview's activity list cannot describe yet.
DOWNLOADS = {"audit:export", "api:audit-events-export"}


def html_pages(client, world):
    """Every GET route, built with the world's objects; yields (name, url, response) for HTML answers."""
    for name, route, _pattern in all_routes():
        spec = ROUTES.get(name)
        if spec is None or route.startswith(ADMIN_PREFIX) or "GET" not in spec.methods:
            continue
        if name in DOWNLOADS:
            continue
        kwargs = dict(spec.extra)
        for argument in argument_names(name):
            # secret-link arguments (token, uidb64) get a made-up value: the "link not valid" page is a page
            kwargs.setdefault(
                argument, OBJECT_ARGUMENTS[argument](world) if argument in OBJECT_ARGUMENTS else "x"
            )
        url = reverse(name, kwargs=kwargs)
        response = client.get(url)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            yield name, url, response


@pytest.mark.parametrize("who", ["owner", "anonymous"])
def test_every_page_has_the_policy_and_no_inline_script(who):
    world = build_world("CSP shop")
    client = Client()
    if who == "owner":
        client.force_login(world.owner.user)
    seen = []
    for name, url, response in html_pages(client, world):
        assert_strict_policy(response, url)
        problems = inline_script_in(response.content.decode())
        assert problems == [], f"{name} ({url}): {problems}"
        seen.append(name)
    expected = {"api:docs", "api:redoc"}
    if who == "owner":
        expected |= {"dashboard:overview", "dashboard:profile", "accounts:members", "dashboard:tokens"}
    else:
        expected |= {"accounts:login", "accounts:sign_up", "accounts:password_reset"}
    assert expected <= set(seen), expected - set(seen)


def test_the_admin_and_error_pages_have_the_policy_too(client):
    assert_strict_policy(client.get("/admin/login/"), "/admin/login/")
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert_strict_policy(missing, "404")


def test_the_api_docs_load_their_start_up_script_from_a_file(client):
    page = client.get(reverse("api:docs"))
    match = re.search(r'<script src="([^"]*script[^"]*)"', page.content.decode())
    assert match, page.content.decode()
    script = client.get(match.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert "SwaggerUIBundle" in script.content.decode()
    redoc = client.get(reverse("api:redoc"))
    assert "<redoc spec-url=" in redoc.content.decode() and "<style" not in redoc.content.decode()
    # the docs' own extra allowances: injected styles and Redoc's search worker, still no inline script
    assert "'unsafe-inline'" in directives(redoc)["style-src"]
    assert "blob:" in directives(redoc)["worker-src"]


def test_the_debug_outbox_has_the_policy_and_no_inline_script(tmp_path):
    script = OUTBOX_SCRIPT.replace(
        "print(json.dumps({",
        'print(json.dumps({"csp": listing.get("Content-Security-Policy", ""), '
        '"detail_csp": detail.get("Content-Security-Policy", "") if detail else "", '
        '"pages": [listing.content.decode(), detail.content.decode() if detail else ""], ',
    )
    result = run(script, {"DEBUG": "1", "OZONSEAT_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    for header in (outcome["csp"], outcome["detail_csp"]):
        assert "script-src 'self'" in header
    for page in outcome["pages"]:
        assert page and inline_script_in(page) == []
