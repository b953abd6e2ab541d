"""The shop owner's day in a real Chromium, against the app served on 127.0.0.1 with a real Celery worker
sending through a real SMTP server: sign up, confirm, invite a warehouse sub-account, the sub-user accepts in
a second browser, the owner suspends them and their open session is refused on the next click."""

import re
from dataclasses import dataclass

import pytest

from tests.e2e.dashboard_harness import (  # noqa: F401 (fixtures)
    chromium_browser_fixture,
    dashboard_app_fixture,
    dashboard_smtp_fixture,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PASSWORD = "a-long-test-passphrase-42"


@dataclass
class Texts:
    """What each page must say in the language of the run."""

    locale: str
    language: str
    sign_up_heading: str
    check_mail: str
    confirmed: str
    sign_in: str
    overview: str
    add_sub_account: str
    invitation_sent: str
    join: str
    my_access: str
    suspend: str
    suspend_consequence: str
    suspended: str
    no_sessions: str
    changes_saved: str
    stores: str
    sub_accounts: str
    picker: str
    warehouse_permission: str


ENGLISH = Texts(
    locale="en-US",
    language="en",
    sign_up_heading="Create an account for your business",
    check_mail="Check your e-mail",
    confirmed="Your e-mail address is confirmed. Sign in to start.",
    sign_in="Sign in",
    overview="Overview",
    add_sub_account="Add sub-account",
    invitation_sent="Invitation sent to",
    join="Join",
    my_access="My access",
    suspend="Suspend",
    suspend_consequence="will be signed out everywhere and lose access until reactivated.",
    suspended="is suspended.",
    no_sessions="Not signed in anywhere.",
    changes_saved="Changes saved.",
    stores="Stores",
    sub_accounts="Sub-accounts",
    picker="Courier / Assembler",
    warehouse_permission="Manage warehouse shipments",
)

CHINESE = Texts(
    locale="zh-CN",
    language="zh-hans",
    sign_up_heading="为您的企业创建账户",
    check_mail="请查收电子邮件",
    confirmed="您的电子邮件地址已确认。请登录开始使用。",
    sign_in="登录",
    overview="概览",
    add_sub_account="添加子账户",
    invitation_sent="邀请已发送至",
    join="加入",
    my_access="我的权限",
    suspend="停用",
    suspend_consequence="将在所有设备上退出登录，并在重新启用前失去访问权限。",  # noqa: RUF001
    suspended="已被停用。",
    no_sessions="当前未在任何设备上登录。",
    changes_saved="更改已保存。",
    stores="店铺",
    sub_accounts="子账户",
    picker="快递员 / 拣货员",
    warehouse_permission="管理仓库发货",
)


def heading(page) -> str:
    return page.locator("h1").first.inner_text()


def run_owner_and_sub_user_flow(app, mailbox, browser, texts: Texts, tag: str):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # five helpers' suites share two cores

    owner_email = f"owner-{tag}@example.com"
    staff_email = f"staff-{tag}@example.com"
    owner_context = browser.new_context(locale=texts.locale, base_url=app.url)
    owner = owner_context.new_page()
    owner.set_default_timeout(20000)

    # The owner signs up; the page speaks the browser's language.
    owner.goto("/signup/")
    expect(owner.locator("h1")).to_have_text(texts.sign_up_heading)
    owner.locator("#id_seller_name").fill(f"Shop {tag}")
    owner.locator("#id_display_name").fill("Wang Fang")
    owner.locator("#id_email").fill(owner_email)
    owner.locator("#id_password").fill(PASSWORD)
    owner.locator("#id_language").select_option(texts.language)
    owner.locator("#id_time_zone").select_option("Asia/Shanghai")
    owner.locator("main button[type=submit]").click()
    expect(owner.locator("h1")).to_have_text(texts.check_mail)

    # The confirmation link arrives through the worker and the SMTP server.
    confirmation = mailbox.wait_for(owner_email)
    owner.goto(mailbox.link(confirmation, "/confirm/"))
    owner.locator("main button[type=submit]").click()  # opening the link only asks; the click confirms
    expect(owner.locator(".alert-success")).to_have_text(texts.confirmed)
    expect(owner.locator("#id_username")).to_have_value(owner_email)
    owner.locator("#id_password").fill(PASSWORD)
    owner.locator("main button[type=submit]").click()
    expect(owner.locator("h1")).to_have_text(texts.overview)
    seller_url = re.search(r"/sellers/\d+/", owner.url).group(0)

    # The owner adds a store and two of its warehouses.
    owner.locator(".mainnav").get_by_role("link", name=texts.stores).click()
    expect(owner.locator("h1")).to_have_text(texts.stores)
    owner.locator("#id_name").fill("Moscow store")
    owner.locator("#id_client_id").fill("1234567")
    owner.locator("#id_market").select_option("RU")
    owner.locator("main form[method=post] button[type=submit]").click()
    expect(owner.locator(".alert-success")).to_be_visible()
    owner.locator("main table").get_by_role("link", name="Moscow store").click()
    for warehouse in ("Khimki", "Podolsk"):
        owner.locator("#id_warehouse-name").fill(warehouse)
        owner.locator("#id_warehouse-kind").select_option("FBS")
        owner.locator("[data-form=warehouse] button[type=submit]").click()
        expect(owner.locator("main table")).to_contain_text(warehouse)

    # The owner adds a warehouse sub-account limited to Khimki, in one form.
    owner.locator(".mainnav").get_by_role("link", name=texts.sub_accounts).click()
    owner.get_by_role("link", name=texts.add_sub_account).first.click()
    expect(owner.locator("h1")).to_have_text(texts.add_sub_account)
    owner.locator("#id_email").fill(staff_email)
    owner.locator("#id_display_name").fill("Ivan Petrov")
    owner.locator("#id_job_title").fill("Warehouse")
    owner.locator("#id_grant-role").select_option(label=texts.picker)
    owner.locator("#id_grant-scope_kind").select_option("warehouses")
    expect(owner.locator("[data-field=stores]")).to_be_hidden()
    # Warehouses are a searchable select: typing loads the matches from the seller's endpoint.
    owner.locator("#id_grant-warehouses").fill("Khim")
    owner.get_by_role("option", name="Moscow store · Khimki (FBS)").click()
    expect(owner.locator("[data-field=warehouses] .combo-chosen input:checked")).to_have_count(1)
    expect(owner.locator("#id_grant-warehouses-options")).to_be_hidden()
    owner.locator("main button[type=submit]").click()
    expect(owner.locator(".alert-success")).to_contain_text(texts.invitation_sent)
    member_url = owner.url

    # Edited in place (htmx): the card and the message change, the page does not reload.
    owner.evaluate("window.__same_page = true")
    owner.locator("#edit-card #id_job_title").fill("Warehouse, Moscow")
    owner.locator("#edit-card button[type=submit]").click()
    expect(owner.locator(".alert-success")).to_have_text(texts.changes_saved)
    expect(owner.locator("#edit-card #id_job_title")).to_have_value("Warehouse, Moscow")
    assert owner.evaluate("window.__same_page") is True

    # The invitation is read from the SMTP server; the sub-user accepts in a second browser.
    invitation = mailbox.wait_for(staff_email)
    staff_context = browser.new_context(locale=texts.locale, base_url=app.url)
    staff = staff_context.new_page()
    staff.set_default_timeout(20000)
    staff.goto(mailbox.link(invitation, "/invitations/"))
    expect(staff.locator("h1")).to_contain_text(texts.join)
    staff.locator("#id_password").fill(PASSWORD)
    staff.locator("#id_password_again").fill(PASSWORD)
    staff.locator("main button[type=submit]").click()
    expect(staff.locator("h1")).to_have_text(texts.my_access)
    assert f"{seller_url}my-access/" in staff.url
    expect(staff.locator("main")).to_contain_text("Khimki")
    expect(staff.locator("main")).not_to_contain_text("Podolsk")
    expect(staff.locator("main")).to_contain_text(texts.warehouse_permission)

    # The owner sees the sub-user's open session, then suspends them after reading what will happen.
    owner.goto(member_url)
    expect(owner.locator("section[aria-labelledby=sessions] tbody tr")).to_have_count(1)
    owner.locator("main .page-actions").get_by_role("link", name=texts.suspend).click()
    expect(owner.locator(".consequence")).to_contain_text(texts.suspend_consequence)
    expect(owner.locator(".facts.lost")).to_contain_text("Moscow store · Khimki")  # the warehouse, by name
    expect(owner.locator(".facts.lost")).not_to_contain_text("Podolsk")
    owner.locator("main button[type=submit]").click()
    expect(owner.locator(".alert-success")).to_contain_text(texts.suspended)
    expect(owner.locator("section[aria-labelledby=sessions]")).to_contain_text(texts.no_sessions)

    # The sub-user's open session is refused on the next click.
    staff.locator(".mainnav").get_by_role("link", name=texts.my_access).click()
    expect(staff.locator("#id_username")).to_be_visible()
    assert "/login/" in staff.url

    owner_context.close()
    staff_context.close()


def test_owner_invites_a_sub_user_who_accepts_and_is_cut_off_when_suspended(
    dashboard_app, dashboard_smtp, chromium_browser
):
    try:
        run_owner_and_sub_user_flow(dashboard_app, dashboard_smtp, chromium_browser, ENGLISH, "en")
    except Exception:
        print(dashboard_app.logs())
        raise


def test_the_same_flow_in_chinese(dashboard_app, dashboard_smtp, chromium_browser):
    try:
        run_owner_and_sub_user_flow(dashboard_app, dashboard_smtp, chromium_browser, CHINESE, "zh")
    except Exception:
        print(dashboard_app.logs())
        raise
