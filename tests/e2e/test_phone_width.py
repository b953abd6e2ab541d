"""Every page of the dashboard on a phone: 390 px wide in a real Chromium, with seller, store, warehouse,
role, person and token names of 50 characters, in English, Russian and Chinese — nothing may make the page
scroll sideways (document.documentElement.scrollWidth <= 390).

The routes come from the URL configuration (as in tests/test_isolation.py): every route is either opened
here, in every state that renders differently (an active, suspended, invited or removed member; an owner
and a read-only member; forms with their scope fields and folded sections opened), or listed in NOT_PAGES
with the reason it is not a page. A new route that is neither fails the test, so new pages are covered."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.e2e.dashboard_harness import (  # noqa: F401 (fixtures)
    APP_SECRET_KEY,
    chromium_browser_fixture,
    dashboard_app_fixture,
    dashboard_smtp_fixture,
)
from tests.test_isolation import all_routes

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WIDTH = 390
PASSWORD = "a-long-test-passphrase-42"
LANGUAGES = {"en": "en-US", "ru": "ru-RU", "zh-hans": "zh-CN"}

# Routes that are not pages a person looks at, and why. Everything else must be opened below.
NOT_PAGES = {
    "reviews:keep_recommended": "POST only: keeps the recommended items and redirects to the list",
    "reviews:report_csv": "a CSV file, not a page",
    "accounts:home": "redirects to the seller's overview (opened as dashboard:overview)",
    "accounts:logout": "POST only: signs out and redirects",
    "accounts:switch_seller": "POST only: redirects to the other seller's overview",
    "accounts:recovery_codes": "POST only: answers with the recovery-codes page, which the visit that sets "
    "up two-factor sign-in from the profile measures",
    "roles:grant": "POST only: redirects to the member's page",
    "roles:role_permissions": "POST only: redirects to the roles page",
    "audit:export": "a file download",
    "dashboard:store_options": "JSON options of a searchable select, not a page",
    "dashboard:warehouse_options": "JSON options of a searchable select, not a page",
    "dashboard:people_options": "JSON options of a searchable select, not a page",
    "audit:retention": "POST only: redirects to the audit log",
    "audit:digest-recipients": "POST only: redirects to the audit log",
    "onboarding:template": "a spreadsheet download",
    "onboarding:result": "a spreadsheet download",
    "privacy:export": "a JSON file download",
    "set_language": "POST only: sets a cookie and redirects",
    "dashboard:set_language": "POST only: sets the language and redirects",
}
# The REST API answers JSON; its documentation viewers (Swagger UI, Redoc) are for developers' desks.
NOT_PAGE_NAMESPACES = {"api": "the REST API and its documentation viewers"}


def fifty(text: str) -> str:
    """Exactly 50 characters: long names are what make a page overflow."""
    text = (text * 3)[:50]
    assert len(text) == 50
    return text


# One of each kind has no space at all (program names, e-mail-like identifiers): it must wrap anyway.
NAMES = {
    "seller": fifty("Торговый дом «Северная звезда» — склады и магазины "),
    "other_seller": fifty("上海东方跨境电子商务有限公司俄罗斯及中亚市场运营中心"),
    "owner": fifty("Константин Константинопольский-Стародубцевский "),
    "picker": fifty("Александра Владимировна Преображенская-Голицына "),
    "suspended": fifty("欧阳诸葛司马慕容皇甫长孙宇文上官东方令狐公孙"),
    "invited": fifty("Maximilian-Alexander Featherstonehaugh-Cholmondeley "),
    "removed": fifty("Bartholomew Christopherson-Vanderbilt Montgomery "),
    "store_cn": fifty("莫斯科旗舰店电子产品家居用品服装鞋帽美妆个护母婴玩具"),
    "store_unbroken": fifty("OzonFlagshipStoreElectronicsHomeGoodsApparelBeauty"),
    "warehouse": fifty("Складской комплекс Подольск Северный терминал FBS "),
    "warehouse_unbroken": fifty("KhimkiNorthDistributionCentreSecondShiftLoadingDock"),
    "role": fifty("Старший кладовщик по приёмке и отгрузке заказов FBS "),
    "service": fifty("ERP-синхронизация остатков и заказов для склада Химки "),
    "token": fifty("PickingAppKhimkiNorthDistrictSecondShiftScannerOne"),
    "job": fifty("Руководитель группы комплектации заказов FBS и rFBS "),
}


def email(local: str) -> str:
    return f"{local}@very-long-company-domain-name-for-testing.example.com"


@dataclass
class World:
    seller: object
    owner: object
    picker: object
    suspended: object
    invited: object
    removed: object
    service: object
    store: object
    warehouse: object
    role: object
    assignment: object
    pending_owner_email: str
    signup_token: str
    invitation_token: str
    reset_path: str
    two_factor_setup_email: str
    two_factor_verify_email: str
    guarded: object  # a member of the seller with an authenticator (the owner may reset it)
    password_expired_email: str
    enrolling_emails: list  # people who enrol from their profile, one per language run
    review: object = None  # an open access review of everyone
    review_item: object = None  # its item for the picker
    member_import: object = None  # a spreadsheet import waiting in its preview


def person(display_name: str, address: str):
    """A user the served app can sign in: its password hashed with the app's hasher (the tests' is MD5)."""
    from tests.factories import UserFactory

    user = UserFactory(email=address, display_name=display_name)
    user.password = make_password(PASSWORD, hasher="argon2")
    user.save(update_fields=["password"])
    return user


def build_world() -> World:
    from accounts import api_tokens, hooks, services
    from accounts.models import InvitationKind, MembershipKind, MembershipStatus, TwoFactorDevice
    from roles import services as roles
    from tests.factories import MembershipFactory, SellerFactory, make_member, sent_invitation

    seller = SellerFactory(name=NAMES["seller"])
    hooks.seller_created(seller)
    owner_user = person(NAMES["owner"], email("konstantin.konstantinopolsky.owner"))
    owner = make_member(seller, user=owner_user, kind=MembershipKind.OWNER)
    other = SellerFactory(name=NAMES["other_seller"])
    hooks.seller_created(other)
    make_member(other, user=owner_user, kind=MembershipKind.OWNER)  # two sellers: the header's switcher
    actor = owner_user

    store = roles.add_store(
        actor=actor, seller=seller, name=NAMES["store_cn"], client_id="1234567", market="RU"
    )
    other_store = roles.add_store(
        actor=actor, seller=seller, name=NAMES["store_unbroken"], client_id="7654321", market="KZ"
    )
    warehouse = roles.add_warehouse(actor=actor, store=store, name=NAMES["warehouse"], kind="FBS")
    unbroken = roles.add_warehouse(
        actor=actor, store=other_store, name=NAMES["warehouse_unbroken"], kind="rFBS"
    )
    role = roles.create_role(
        actor=actor,
        seller=seller,
        name=NAMES["role"],
        description=NAMES["job"],
        permissions=["orders.view", "orders.process", "warehouse.stock.view", "warehouse.stock.edit"],
    )

    picker = make_member(
        seller,
        user=person(NAMES["picker"], email("alexandra.preobrazhenskaya.picker")),
        job_title=NAMES["job"],
    )
    assignment = roles.grant_role(
        actor=actor, membership=picker, role=role, scope_kind="warehouses", warehouses=[warehouse, unbroken]
    )
    roles.grant_role(
        actor=actor, membership=picker, role=role, scope_kind="stores", stores=[store, other_store]
    )
    suspended = make_member(seller, user=person(NAMES["suspended"], email("ouyang.zhuge.suspended")))
    roles.grant_role(actor=actor, membership=suspended, role=role, scope_kind="market", market="RU")
    services.suspend_member(actor=actor, membership=suspended)
    removed = make_member(seller, user=person(NAMES["removed"], email("bartholomew.removed")))
    roles.grant_role(actor=actor, membership=removed, role=role, scope_kind="seller")
    services.remove_member(actor=actor, membership=removed)
    invited = MembershipFactory(
        seller=seller,
        user=person(NAMES["invited"], email("maximilian.featherstonehaugh.invited")),
        status=MembershipStatus.INVITED,
        invited_by=owner_user,
        activated_at=None,
    )
    invited.user.set_unusable_password()
    invited.user.save()
    roles.grant_role(actor=actor, membership=invited, role=role, scope_kind="stores", stores=[other_store])
    _invitation, invitation_token = sent_invitation(invited)

    service = api_tokens.create_service_account(
        actor=actor, seller=seller, name=NAMES["service"], description=NAMES["job"]
    )
    api_tokens.create_api_token(actor=actor, membership=service, name=NAMES["token"])
    api_tokens.create_api_token(
        actor=actor, membership=owner, name=NAMES["token"], expires_at=timezone.now() + timedelta(days=30)
    )
    api_tokens.create_api_token(actor=picker.user, membership=picker, name=NAMES["token"])

    # Someone who signed up and has not confirmed yet (the sign-in form offers a new link).
    pending = services.sign_up_seller(
        email=email("pending.owner.not.confirmed.yet"),
        password=PASSWORD,
        display_name=NAMES["owner"],
        seller_name=NAMES["other_seller"],
        language="en",
        time_zone="Asia/Shanghai",
    )
    pending.user.password = make_password(PASSWORD, hasher="argon2")
    pending.user.save(update_fields=["password"])
    _confirmation, signup_token = sent_invitation(pending, kind=InvitationKind.SIGNUP)

    generator = PasswordResetTokenGenerator()
    generator.secret = APP_SECRET_KEY  # the served app checks the link with its own key
    reset_path = reverse(
        "accounts:password_reset_confirm",
        args=[urlsafe_base64_encode(force_bytes(owner_user.pk)), generator.make_token(owner_user)],
    )

    # Two-factor sign-in: one seller requires it (its member must enrol), one person already has a device.
    strict = SellerFactory(name=NAMES["seller"], require_two_factor=True)
    hooks.seller_created(strict)
    enrolling = person(NAMES["picker"], email("must.enrol.two.factor"))
    make_member(strict, user=enrolling, kind=MembershipKind.OWNER)
    verifying = person(NAMES["picker"], email("has.an.authenticator"))
    make_member(strict, user=verifying)
    TwoFactorDevice.objects.create(user=verifying, encrypted_secret="unused", confirmed_at=timezone.now())
    guarded = make_member(seller, user=person(NAMES["picker"], email("has.an.authenticator.here")))
    TwoFactorDevice.objects.create(user=guarded.user, encrypted_secret="unused", confirmed_at=timezone.now())
    # A seller that asks for a new password every 30 days, and someone whose password is older.
    rotating = SellerFactory(name=NAMES["other_seller"], password_max_age_days=30)
    hooks.seller_created(rotating)
    expired = person(NAMES["picker"], email("password.is.too.old"))
    make_member(rotating, user=expired, kind=MembershipKind.OWNER)
    type(expired).objects.filter(pk=expired.pk).update(
        password_changed_at=timezone.now() - timedelta(days=60)
    )
    enrolling_from_profile = [
        make_member(seller, user=person(NAMES["picker"], email(f"enrols.from.the.profile.{n}"))).user.email
        for n in range(len(LANGUAGES))
    ]
    from reviews import opening

    review = opening.start_review(actor=owner.user, seller=seller)
    from onboarding import services as onboarding_services

    rows = "E-mail,Name\n" + "".join(f"{email(f'imported.person.{n}')},{NAMES['picker']}\n" for n in range(3))
    member_import = onboarding_services.upload_import(
        actor=owner.user, seller=seller, file_name=NAMES["store_unbroken"] + ".csv", content=rows.encode()
    )

    return World(
        member_import=member_import,
        review=review,
        review_item=review.items.get(membership=picker),
        seller=seller,
        owner=owner,
        picker=picker,
        suspended=suspended,
        invited=invited,
        removed=removed,
        service=service,
        store=store,
        warehouse=warehouse,
        role=role,
        assignment=assignment,
        pending_owner_email=pending.user.email,
        signup_token=signup_token,
        invitation_token=invitation_token,
        reset_path=reset_path,
        two_factor_setup_email=enrolling.email,
        two_factor_verify_email=verifying.email,
        guarded=guarded,
        password_expired_email=expired.email,
        enrolling_emails=enrolling_from_profile,
    )


# --- visits ---------------------------------------------------------------------------------------


@dataclass
class Visit:
    route: str  # the URL name this visit shows
    who: str  # "owner", "picker" (a member with no manage permission) or "anonymous"
    label: str
    open: Callable  # (page) -> None: navigates, and interacts where a page is reached by a form


def goto(url):
    return lambda page: page.goto(url)


def sign_in(page, address):
    page.goto(reverse("accounts:login"))
    page.locator("#id_username").fill(address)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def bulk_confirmation(page, url):
    page.goto(url)
    page.locator("[data-select-all]").check()
    page.locator("#members-table button[type=submit]").first.click()
    page.wait_for_load_state()


def resend_confirmation(page, address):
    from accounts.models import Invitation

    # One new link a minute: the earlier links are made older, so each language's visit gets the sent page.
    earlier = timezone.now() - timedelta(minutes=5)
    Invitation.objects.filter(membership__user__email=address).update(created_at=earlier)
    sign_in(page, address)
    page.locator("form[action$='/login/resend-confirmation/'] button").click()
    page.wait_for_load_state()


def enrol_from_the_profile(page, addresses):
    """Sign in as the next person who has no authenticator, set one up from the profile with the key the
    page shows, and stay on the page of recovery codes it answers with."""
    import pyotp

    sign_in(page, addresses.pop(0))
    page.goto(reverse("accounts:two_factor_enrol"))
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    page.locator("#id_code").fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def visits(world: World) -> list[Visit]:
    seller = world.seller.pk

    def url(name, *args):
        return reverse(name, args=args)

    owner_pages = [
        ("dashboard:overview", "overview", url("dashboard:overview", seller)),
        ("reviews:reviews", "access reviews", url("reviews:reviews", seller)),
        ("reviews:start", "start a review", url("reviews:start", seller)),
        ("reviews:review", "a review's list", url("reviews:review", seller, world.review.pk) + "?state=all"),
        ("reviews:item", "a review item", url("reviews:item", seller, world.review.pk, world.review_item.pk)),
        ("reviews:close", "close a review", url("reviews:close", seller, world.review.pk)),
        ("reviews:report", "review report", url("reviews:report", seller, world.review.pk)),
        ("reviews:report_print", "printable report", url("reviews:report_print", seller, world.review.pk)),
        ("onboarding:upload", "invite from a spreadsheet", url("onboarding:upload", seller)),
        (
            "onboarding:import",
            "spreadsheet preview",
            url("onboarding:import", seller, world.member_import.pk),
        ),
        ("roles:access_matrix", "access matrix", url("roles:access_matrix", seller)),
        (
            "roles:assignment_scope",
            "change an assignment's scope",
            url("roles:assignment_scope", seller, world.assignment.pk),
        ),
        ("privacy:notice", "privacy notice", url("privacy:notice")),
        ("privacy:erase", "erase my data", url("privacy:erase")),
        ("dashboard:my_access", "my access", url("dashboard:my_access", seller)),
        ("dashboard:tokens", "tokens", url("dashboard:tokens", seller)),
        ("dashboard:profile", "profile", url("dashboard:profile")),
        ("accounts:members", "members", url("accounts:members", seller)),
        ("accounts:members", "members, removed", url("accounts:members", seller) + "?status=removed"),
        ("accounts:invite", "add sub-account", url("accounts:invite", seller)),
        ("accounts:seller_settings", "settings", url("accounts:seller_settings", seller)),
        ("accounts:transfer_ownership", "transfer ownership", url("accounts:transfer_ownership", seller)),
        ("roles:roles", "roles", url("roles:roles", seller)),
        ("roles:role_create", "new role", url("roles:role_create", seller)),
        ("roles:role_templates", "role templates", url("roles:role_templates", seller)),
        ("roles:role_edit", "edit role", url("roles:role_edit", seller, world.role.pk)),
        ("roles:role_clone", "clone role", url("roles:role_clone", seller, world.role.pk)),
        ("roles:role_delete", "delete role", url("roles:role_delete", seller, world.role.pk)),
        ("roles:stores", "stores", url("roles:stores", seller)),
        ("roles:store", "store", url("roles:store", seller, world.store.pk)),
        ("roles:store_deactivate", "deactivate store", url("roles:store_deactivate", seller, world.store.pk)),
        ("roles:warehouse", "warehouse", url("roles:warehouse", seller, world.warehouse.pk)),
        (
            "roles:warehouse_deactivate",
            "deactivate warehouse",
            url("roles:warehouse_deactivate", seller, world.warehouse.pk),
        ),
        ("roles:revoke", "take a role away", url("roles:revoke", seller, world.assignment.pk)),
        ("audit:events", "audit log", url("audit:events", seller)),
    ]
    for label, member in [
        ("active", world.picker),
        ("suspended", world.suspended),
        ("invited", world.invited),
        ("removed", world.removed),
        ("service account", world.service),
        ("owner's own", world.owner),
    ]:
        owner_pages.append(
            ("accounts:member", f"member page, {label}", url("accounts:member", seller, member.pk))
        )
    for action, member in [
        ("suspend", world.picker),
        ("remove", world.picker),
        ("signout", world.picker),
        ("reactivate", world.suspended),
        ("resend", world.invited),
        ("revoke", world.invited),
    ]:
        owner_pages.append(
            (
                "accounts:member_action",
                f"confirm {action}",
                url("accounts:member_action", seller, member.pk, action),
            )
        )
    result = [Visit(route, "owner", label, goto(address)) for route, label, address in owner_pages]
    members = url("accounts:members", seller)
    result.append(
        Visit("accounts:bulk_action", "owner", "confirm bulk action", lambda p: bulk_confirmation(p, members))
    )

    # A member who may manage nothing sees the read-only variants.
    for route, label, address in [
        ("dashboard:my_access", "my access", url("dashboard:my_access", seller)),
        ("dashboard:tokens", "own tokens", url("dashboard:tokens", seller)),
        ("accounts:member", "own member page", url("accounts:member", seller, world.picker.pk)),
        ("accounts:members", "members", url("accounts:members", seller)),
        ("accounts:seller_settings", "settings, read-only", url("accounts:seller_settings", seller)),
        ("roles:roles", "roles, read-only", url("roles:roles", seller)),
        ("roles:role_edit", "role, read-only", url("roles:role_edit", seller, world.role.pk)),
        ("roles:stores", "stores, read-only", url("roles:stores", seller)),
        ("roles:store", "store, read-only", url("roles:store", seller, world.store.pk)),
        ("roles:warehouse", "warehouse, read-only", url("roles:warehouse", seller, world.warehouse.pk)),
    ]:
        result.append(Visit(route, "picker", label, goto(address)))

    pending = world.pending_owner_email
    result += [
        Visit("accounts:login", "anonymous", "sign in", goto(url("accounts:login"))),
        Visit("accounts:login", "anonymous", "sign in, not confirmed yet", lambda p: sign_in(p, pending)),
        Visit(
            "accounts:resend_confirmation",
            "anonymous",
            "new link sent",
            lambda p: resend_confirmation(p, pending),
        ),
        Visit("accounts:sign_up", "anonymous", "sign up", goto(url("accounts:sign_up"))),
        Visit(
            "accounts:confirm_email",
            "anonymous",
            "confirm e-mail",
            goto(url("accounts:confirm_email", world.signup_token)),
        ),
        Visit(
            "accounts:accept_invitation",
            "anonymous",
            "accept invitation",
            goto(url("accounts:accept_invitation", world.invitation_token)),
        ),
        Visit("accounts:password_reset", "anonymous", "password reset", goto(url("accounts:password_reset"))),
        Visit(
            "accounts:password_reset_done",
            "anonymous",
            "reset sent",
            goto(url("accounts:password_reset_done")),
        ),
        Visit("accounts:password_reset_confirm", "anonymous", "new password", goto(world.reset_path)),
        Visit(
            "accounts:password_reset_complete",
            "anonymous",
            "reset done",
            goto(url("accounts:password_reset_complete")),
        ),
        Visit(
            "accounts:two_factor_setup",
            "anonymous",
            "two-factor enrolment",
            lambda p: sign_in(p, world.two_factor_setup_email),
        ),
        Visit(
            "accounts:two_factor_verify",
            "anonymous",
            "two-factor code",
            lambda p: sign_in(p, world.two_factor_verify_email),
        ),
        Visit(
            "accounts:two_factor_enrol",
            "anonymous",
            "two-factor set up from the profile, then its recovery codes",
            lambda p: enrol_from_the_profile(p, world.enrolling_emails),
        ),
        Visit(
            "accounts:password_change_required",
            "anonymous",
            "a new password is due",
            lambda p: sign_in(p, world.password_expired_email),
        ),
        Visit(
            "accounts:member_reset_two_factor",
            "owner",
            "reset a member's two-factor sign-in",
            goto(url("accounts:member_reset_two_factor", seller, world.guarded.pk)),
        ),
    ]
    return result


# --- measuring ------------------------------------------------------------------------------------

# The page's width, and when it is too wide the outermost elements that stick out (to say what to fix).
MEASURE = """() => {
  const limit = window.innerWidth;
  const width = document.documentElement.scrollWidth;
  const culprits = [];
  if (width > limit) {
    for (const element of document.querySelectorAll("body *")) {
      const box = element.getBoundingClientRect();
      if (box.right <= limit + 0.5 || box.width === 0) continue;
      const parent = element.parentElement;
      if (parent && parent.getBoundingClientRect().right > limit + 0.5) continue;
      // Inside a box that scrolls or clips (a table wrapper, the main menu) it widens nothing, unless it is
      // positioned against something outside that box.
      let scroller = false;
      for (let up = parent; up && up !== document.body && !scroller; up = up.parentElement) {
        scroller = getComputedStyle(up).overflowX !== "visible";
      }
      if (scroller && !["absolute", "fixed"].includes(getComputedStyle(element).position)) continue;
      const classes = typeof element.className === "string" ? element.className.trim() : "";
      const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
        (classes ? "." + classes.split(/\\s+/).join(".") : "");
      culprits.push(name + " → " + Math.round(box.right) + "px");
      if (culprits.length >= 6) break;
    }
  }
  return {width, culprits};
}"""

SCOPE_SELECTS = "[data-scope-form] [data-field=scope_kind] select"


def overflows(page, what: str) -> list[str]:
    """Measure the page as loaded, with every folded section open, and with each scope of a grant form."""
    found = []

    def measure(state):
        result = page.evaluate(MEASURE)
        if result["width"] > WIDTH:
            found.append(f"{what} [{state}]: {result['width']}px wide; {', '.join(result['culprits'])}")

    measure("as loaded")
    if page.locator("details").count():
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        measure("sections open")
    for index in range(page.locator(SCOPE_SELECTS).count()):
        select = page.locator(SCOPE_SELECTS).nth(index)
        for value in select.locator("option").evaluate_all("options => options.map(o => o.value)"):
            select.select_option(value)
            measure(f"scope {value or 'none'}")
    return found


def test_every_page_fits_a_phone_screen_with_long_names(dashboard_app, chromium_browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    world = build_world()
    plan = visits(world)

    opened = {visit.route for visit in plan}
    routes = {name for name, _route, _pattern in all_routes()}
    unknown = sorted(
        name
        for name in routes
        if name not in opened
        and name not in NOT_PAGES
        and (name or "").split(":")[0] not in NOT_PAGE_NAMESPACES
    )
    assert not unknown, (
        f"routes this test does not know how to open (add a Visit or a NOT_PAGES reason): {unknown}"
    )
    assert not (set(NOT_PAGES) - routes), (
        f"NOT_PAGES names routes that no longer exist: {set(NOT_PAGES) - routes}"
    )

    problems, errors = [], []
    current = [""]  # the visit under way, for naming a server error
    for language, locale in LANGUAGES.items():
        contexts = {}
        for who, address in [("owner", world.owner.user.email), ("picker", world.picker.user.email)]:
            context = chromium_browser.new_context(
                locale=locale, base_url=dashboard_app.url, viewport={"width": WIDTH, "height": 844}
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            sign_in(page, address)
            assert "/login/" not in page.url, f"{who} could not sign in"
            contexts[who] = (context, page)
        anonymous = chromium_browser.new_context(
            locale=locale, base_url=dashboard_app.url, viewport={"width": WIDTH, "height": 844}
        )
        contexts["anonymous"] = (anonymous, anonymous.new_page())
        for _context, page in contexts.values():
            page.on(
                "response",
                lambda response: response.status >= 500 and errors.append(f"{current[0]}: {response.url}"),
            )
        for visit in plan:
            current[0] = f"{language} {visit.label}"
            context, page = contexts[visit.who]
            if visit.who == "anonymous":
                context.clear_cookies()  # each public page from a fresh session
            visit.open(page)
            problems += overflows(page, f"{current[0]} ({page.url.removeprefix(dashboard_app.url)})")
        for context, _page in contexts.values():
            context.close()
    assert not errors, "\n".join(errors) + "\n" + dashboard_app.logs()
    assert not problems, "pages wider than a 390 px phone:\n" + "\n".join(problems)
