"""The real pieces the dashboard's browser tests run against, each on a free port of 127.0.0.1:
an SMTP server (aiosmtpd) that keeps what it receives, the web app and a Celery worker as subprocesses on the
test database and Redis, and Debian's Chromium driven by Playwright."""

import email
import email.policy
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.clock.shift import child_environment
from tests.services import REDIS_KEY_PREFIX, chromium_path, delete_redis_keys, need, need_postgres, need_redis

ROOT = Path(__file__).resolve().parents[2]
# The served app's SECRET_KEY: a test that builds a signed link (a password reset) signs it with this.
APP_SECRET_KEY = "e2e-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start listening on {port}")


class Mailbox:
    """What the SMTP server received, waited on by recipient."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.condition = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        with self.condition:
            self.messages.append(message)
            self.condition.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, recipient: str, *, count: int = 1, timeout: float = 60) -> email.message.EmailMessage:
        """The `count`-th message to the recipient, waiting for the worker to send it."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                found = [m for m in self.messages if recipient.lower() in m["X-Envelope-To"].lower()]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no e-mail #{count} to {recipient} within {timeout}s")
                self.condition.wait(remaining)

    @staticmethod
    def text(message) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content()

    def link(self, message, path_part: str) -> str:
        match = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", self.text(message))
        assert match, f"no link containing {path_part} in the e-mail"
        return match.group(0).rstrip(".,)")


@pytest.fixture(name="dashboard_smtp")
def dashboard_smtp_fixture():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def _subprocess_env(*, database_name: str, smtp_port: int, web_port: int) -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
            "DEBUG": "0",
            "SECRET_KEY": APP_SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{database_name}",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


class App:
    def __init__(self, url: str, processes: list, log_dir: Path):
        self.url = url
        self.processes = processes
        self.log_dir = log_dir

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))


@pytest.fixture(name="dashboard_app")
def dashboard_app_fixture(transactional_db, dashboard_smtp, tmp_path):
    """The web app (runserver, DEBUG off) and a Celery worker on the test database, Redis and SMTP server."""
    from django.db import connection

    need_postgres()
    redis_url = need_redis()
    port = free_port()
    env = _subprocess_env(
        database_name=connection.settings_dict["NAME"], smtp_port=dashboard_smtp.port, web_port=port
    )
    env["REDIS_URL"] = redis_url
    prefix = f"{REDIS_KEY_PREFIX}dashboard-{secrets.token_hex(4)}:"  # this app's own queue and cache keys
    env["REDIS_KEY_PREFIX"] = prefix
    env["OZONSEAT_VAR_DIR"] = str(tmp_path / "var")
    env = child_environment(env)
    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "ozonseat",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
    }
    processes = []
    try:
        for name, command in commands.items():
            log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (kept open for the process's life)
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        wait_for_port(port, processes[0], "web server")
        app = App(f"http://127.0.0.1:{port}", processes, tmp_path)
        yield app
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        connection.close()
        delete_redis_keys(redis_url, prefix)


@pytest.fixture(name="chromium_browser")
def chromium_browser_fixture():
    path = chromium_path()
    need(path is not None, "needs Chromium (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
