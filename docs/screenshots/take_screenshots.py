"""Take the README screenshots: seeds a demo seller on a throw-away SQLite database, serves the app on a
free port of 127.0.0.1 and photographs the main pages with Playwright driving Debian's Chromium.

    .venv/bin/python docs/screenshots/take_screenshots.py [--language en|ru|zh-hans]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
SEED = r"""
from datetime import timedelta
from django.utils import timezone
from accounts import services
from accounts.models import Invitation, InvitationKind, Membership, User
from accounts.tokens import hash_token, new_token

owner_membership = services.sign_up_seller(email="owner@demo.example", password="demo-owner-password-1",
    display_name="Wang Fang", seller_name="Harbin Trading", language="LANG", time_zone="Asia/Shanghai")
invitation = Invitation.objects.get(membership=owner_membership, kind=InvitationKind.SIGNUP)
token = new_token()
Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(token))
services.confirm_email(token=token)
owner = User.objects.get(email="owner@demo.example")
people = [("ivan@demo.example", "Ivan Petrov", "Warehouse, Moscow", "ru"),
          ("olga@demo.example", "Olga Smirnova", "Customer service", "ru"),
          ("li@demo.example", "Li Na", "Content manager", "zh-hans"),
          ("aidar@demo.example", "Aidar Nurlanov", "Warehouse, Almaty", "ru"),
          ("chen@demo.example", "Chen Jie", "Finance", "zh-hans")]
for email, name, title, language in people:
    services.invite_member(actor=owner, seller=owner_membership.seller, email=email, display_name=name,
                           job_title=title, language=language)
for email in ("ivan@demo.example", "olga@demo.example", "li@demo.example", "aidar@demo.example"):
    membership = Membership.objects.get(user__email=email)
    invitation = Invitation.objects.filter(membership=membership).latest("created_at")
    token = new_token()
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(token))
    services.accept_invitation(token=token, signed_in_user=None, password="a-long-demo-passphrase")
User.objects.filter(email="ivan@demo.example").update(last_login=timezone.now() - timedelta(hours=3))
User.objects.filter(email="olga@demo.example").update(last_login=timezone.now() - timedelta(days=1))
from roles import services as roles_services
from roles.models import Role
seller = owner_membership.seller
moscow = roles_services.add_store(
    actor=owner, seller=seller, name="Harbin Home RU", client_id="1502837", market="RU")
almaty = roles_services.add_store(
    actor=owner, seller=seller, name="Harbin Home KZ", client_id="2204519", market="KZ")
khimki = roles_services.add_warehouse(actor=owner, store=moscow, name="Khimki", kind="FBS")
roles_services.add_warehouse(actor=owner, store=moscow, name="Podolsk", kind="FBO")
roles_services.add_warehouse(actor=owner, store=almaty, name="Almaty", kind="FBS")
roles = {role.template_key: role for role in Role.objects.filter(seller=seller)}
def member(email):
    return Membership.objects.get(user__email=email, seller=seller)
roles_services.grant_role(actor=owner, membership=member("ivan@demo.example"),
                          role=roles["courier_assembler"],
                          scope_kind="warehouses", warehouses=[khimki.pk])
roles_services.grant_role(actor=owner, membership=member("olga@demo.example"), role=roles["customer_service"],
                          scope_kind="market", market="RU")
roles_services.grant_role(actor=owner, membership=member("li@demo.example"), role=roles["product_manager"],
                          scope_kind="seller")
roles_services.grant_role(actor=owner, membership=member("chen@demo.example"),
                          role=roles["financial_manager"],
                          scope_kind="seller")
roles_services.grant_role(actor=owner, membership=member("aidar@demo.example"),
                          role=roles["warehouse_manager"],
                          scope_kind="stores", stores=[almaty.pk])
services.suspend_member(actor=owner, membership=Membership.objects.get(user__email="aidar@demo.example"))
from accounts import api_tokens
from accounts.browser_sessions import auth_digest
from accounts.models import BrowserSession
ivan = member("ivan@demo.example")
api_tokens.create_api_token(actor=ivan.user, membership=ivan, name="Label printer")
BrowserSession.objects.create(
    user=ivan.user, auth_digest=auth_digest(ivan.user), ip_address="188.170.84.21",
    user_agent="Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    created_at=timezone.now() - timedelta(hours=5), last_seen_at=timezone.now() - timedelta(minutes=40))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--language", default="en")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    var = Path(tempfile.mkdtemp(prefix="ozonseat-screens-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
        "DEBUG": "1",
        "OZONSEAT_VAR_DIR": str(var),
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST"):
        env.pop(name, None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seed = SEED.replace("LANG", args.language)
    subprocess.run([python, "manage.py", "shell", "-c", seed], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            suffix = "" if args.language == "en" else f"-{args.language}"
            desktop = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
            page = desktop.new_page()
            page.goto("/login/")
            page.fill("#id_username", "owner@demo.example")
            page.fill("#id_password", "demo-owner-password-1")
            page.click("main button[type=submit]")
            page.wait_for_url("**/sellers/*/")
            seller = page.url.rstrip("/").split("/")[-1]
            shots = {
                "overview": f"/sellers/{seller}/",
                "members": f"/sellers/{seller}/members/",
                "add-sub-account": f"/sellers/{seller}/members/new/",
                "settings": f"/sellers/{seller}/settings/",
                "roles": f"/sellers/{seller}/roles/",
                "stores": f"/sellers/{seller}/stores/",
                "audit-log": f"/sellers/{seller}/audit/",
                "profile": "/profile/",
            }
            for name, path in shots.items():
                page.goto(path)
                page.screenshot(path=OUT / f"{name}{suffix}.png", full_page=True)
            picker = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
            picker_page = picker.new_page()
            picker_page.goto("/login/")
            picker_page.fill("#id_username", "ivan@demo.example")
            picker_page.fill("#id_password", "a-long-demo-passphrase")
            picker_page.click("main button[type=submit]")
            picker_page.wait_for_url("**/my-access/")
            picker_page.screenshot(path=OUT / f"my-access{suffix}.png", full_page=True)
            # The picker is now signed in here (and, seeded, on a phone): their page lists both sessions.
            members_page = page.goto(f"/sellers/{seller}/members/")
            assert members_page.ok
            page.locator("table a", has_text="Ivan").first.click()
            page.screenshot(path=OUT / f"sub-account{suffix}.png", full_page=True)
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                base_url=base,
                storage_state=desktop.storage_state(),
            )
            phone_page = phone.new_page()
            phone_page.goto(f"/sellers/{seller}/members/")
            phone_page.screenshot(path=OUT / f"members-phone{suffix}.png", full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
