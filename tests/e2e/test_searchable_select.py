"""The searchable select in a real Chromium: on the members page of a seller with 60 stores, the store
filter holds no store options until the owner types; the matches come from the seller's endpoint, are
chosen with the keyboard alone (arrow down, Enter), and the table is filtered (htmx) without a reload."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from tests.e2e.dashboard_harness import (  # noqa: F401 (fixtures)
    chromium_browser_fixture,
    dashboard_app_fixture,
    dashboard_smtp_fixture,
)
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PASSWORD = "a-long-test-passphrase-42"


def test_the_store_filter_loads_matches_as_the_owner_types_and_is_chosen_by_keyboard(
    dashboard_app, chromium_browser
):
    from playwright.sync_api import expect

    from roles import services
    from roles.models import Role, Store

    expect.set_options(timeout=15_000)
    seller, owner = make_seller(name="Big shop")
    owner.user.password = make_password(PASSWORD, hasher="argon2")  # the app runs with production hashers
    owner.user.save(update_fields=["password"])
    Store.objects.bulk_create(
        [Store(seller=seller, name=f"Store {i:02d}", client_id=str(100 + i), market="KZ") for i in range(60)]
    )
    chosen = Store.objects.get(seller=seller, name="Store 42")
    sales = Role.objects.get(seller=seller, template_key="sales")
    there = make_member(seller, activated_at=timezone.now())
    elsewhere = make_member(seller, activated_at=timezone.now())
    services.grant_role(actor=owner.user, membership=there, role=sales, scope_kind="stores", stores=[chosen])
    services.grant_role(
        actor=owner.user,
        membership=elsewhere,
        role=sales,
        scope_kind="stores",
        stores=[Store.objects.get(seller=seller, name="Store 07")],
    )

    context = chromium_browser.new_context(locale="en-GB", base_url=dashboard_app.url)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("#id_username").fill(owner.user.email)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("main h1")).not_to_have_text("Sign in")
        page.goto(f"/sellers/{seller.pk}/members/")
        expect(page.locator("main h1")).to_have_text("Sub-accounts")
        expect(page.locator("#members-table")).to_contain_text(elsewhere.display_name)
        assert page.locator("#store-options [role=option]").count() == 0  # nothing loaded with the page

        combobox = page.get_by_role("combobox", name="Store")
        combobox.focus()
        combobox.press_sequentially("ore 4")
        options = page.locator("#store-options [role=option]")
        expect(options).to_have_count(10)  # Store 40 … Store 49, from the endpoint
        expect(combobox).to_have_attribute("aria-expanded", "true")
        for _ in range(3):
            combobox.press("ArrowDown")
        expect(combobox).to_have_attribute("aria-activedescendant", "store-options-2")
        combobox.press("Enter")

        expect(combobox).to_have_value("Store 42 (KZ)")
        expect(combobox).to_have_attribute("aria-expanded", "false")
        expect(page).to_have_url(re.compile(rf"store={chosen.pk}"))
        expect(page.locator("#members-table")).to_contain_text(there.display_name)
        expect(page.locator("#members-table")).not_to_contain_text(elsewhere.display_name)
    except Exception:
        print(dashboard_app.logs())
        raise
    finally:
        context.close()
