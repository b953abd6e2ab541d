"""Real processes for end-to-end tests: an aiosmtpd SMTP server in a thread and a Celery worker in its own
process group, on the real Redis broker and the pytest-django test database."""

import asyncio
import email
import email.policy
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.clock.shift import child_environment
from tests.services import REDIS_KEY_PREFIX, REDIS_URL, delete_redis_keys, need_postgres, need_redis

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 60
WAIT_TIMEOUT = 45


def wait_until(predicate, timeout=WAIT_TIMEOUT, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def free_port() -> int:
    """A port nothing listens on: bound to 0 by the OS, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """The SMTP handler: records accepted messages; can refuse the next N with a temporary failure; can hold
    a conversation at RCPT (before any data) or at the end of DATA (the message received and kept, the
    250 not yet sent) until released, as a slow server would."""

    def __init__(self):
        self.lock = threading.Lock()
        self.held = threading.Event()
        self.reset()

    def reset(self):
        with self.lock:
            self.messages = []
            self.refuse_next = 0
            self.refused = 0
            self.hold_at = None  # "RCPT" or "DATA"
            self.held.clear()

    async def _hold(self, stage):
        while self.hold_at == stage:
            self.held.set()
            await asyncio.sleep(0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._hold("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        # As a real server queues a message before answering 250: a client lost while this holds has
        # delivered it without knowing (RFC 1047's duplicate window).
        await self._hold("DATA")
        return "250 2.0.0 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_for(self, count: int):
        wait_until(lambda: self.count() >= count, message=f"{count} message(s) at the SMTP server")
        with self.lock:
            return list(self.messages)


class EphemeralPortController(Controller):
    """aiosmtpd's Controller on a port the OS picks (port 0), so parallel runs never collide."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Worker:
    def __init__(self, process):
        self.process = process
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def mark(self) -> int:
        """A position in the log: pass it as `after` to look only at what the worker logged since.
        The worker serves the whole module, so earlier tests' lines are in the log too."""
        with self.lock:
            return len(self.lines)

    def matching(self, pattern: str, after: int = 0) -> list[str]:
        regex = re.compile(pattern)
        with self.lock:
            return [line for line in self.lines[after:] if regex.search(line)]

    def wait_for_log(self, pattern: str, count: int = 1, timeout=WAIT_TIMEOUT, after: int = 0) -> list[str]:
        def found():
            if self.process.poll() is not None:
                raise AssertionError(f"the Celery worker exited ({self.process.returncode}):\n{self.log()}")
            lines = self.matching(pattern, after)
            return lines if len(lines) >= count else None

        try:
            return wait_until(found, timeout=timeout, message=f"worker log {pattern!r}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- worker log ---\n{self.log()}") from None

    def wait_for_task(self, task_id: str) -> str:
        return self.wait_for_log(rf"\[{re.escape(task_id)}\] (succeeded|raised|failed)")[0]

    def kill(self):
        """SIGKILL, as a machine losing power or the OOM killer would: no clean-up, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.reader.join(timeout=5)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.reader.join(timeout=5)


@pytest.fixture(scope="module")
def smtp_server():
    mailbox = Mailbox()
    controller = EphemeralPortController(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    _controller, mailbox = smtp_server
    mailbox.reset()
    yield mailbox
    mailbox.reset()


def database_url() -> str:
    from django.db import connection

    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


def process_env(*, smtp_port: int, var_dir, **extra) -> dict:
    """The environment of a worker or beat: the test database, the real Redis broker in this test process's
    namespace (its queue is its own, so nothing stale or foreign reaches the worker), the test's SMTP
    server, production settings otherwise."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "http://testserver",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": REDIS_KEY_PREFIX,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "10",
        "OZONSEAT_VAR_DIR": str(var_dir),
        "OZONSEAT_EMAIL_RETRY_BASE_SECONDS": "0.2",
        "OZONSEAT_REQUEUE_UNQUEUED_AFTER_SECONDS": "0",
        **extra,
    }


def start_celery(arguments: list[str], env: dict) -> Worker:
    """`celery -A ozonseat <arguments>` in its own process group, its output collected."""
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ozonseat", *arguments],
        cwd=ROOT,
        env=child_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return Worker(process)


WORKER_ARGUMENTS = [
    "worker",
    "--pool=solo",
    "--loglevel=INFO",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
]


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
    """One worker for the module, pointed at the test database (rows must be committed to be seen:
    use django_db(transaction=True)), the real Redis broker and the test's SMTP server."""
    redis_url = need_redis()
    with django_db_blocker.unblock():
        need_postgres()
        env = process_env(smtp_port=smtp_server[0].port, var_dir=tmp_path_factory.mktemp("worker-var"))
    worker = start_celery([*WORKER_ARGUMENTS, "--hostname", f"e2e-{secrets.token_hex(4)}@%h"], env)
    try:
        worker.wait_for_log(r"\bready\.", timeout=WORKER_START_TIMEOUT)
        yield worker
    finally:
        worker.stop()
        delete_redis_keys(redis_url, REDIS_KEY_PREFIX)


def use_broker(app, url: str) -> None:
    """Point this process's Celery app at another broker. The app caches its connection and producer pools;
    dropping the references makes the next publish look the pools up again for the new URL (kombu keeps
    one pool per URL, so going back reuses the old one)."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app.conf.broker_url = url
    if url.startswith("redis://"):
        app.conf.broker_transport_options = {"global_keyprefix": REDIS_KEY_PREFIX}


@contextmanager
def publishing_to_the_broker():
    """Tasks published by this process go to the real broker (not run eagerly), for a real worker."""
    from ozonseat.celery import app

    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    use_broker(app, REDIS_URL)
    try:
        yield
    finally:
        app.conf.task_always_eager = old[0]
        use_broker(app, old[1])


@pytest.fixture
def live_celery(celery_worker):
    """Tasks published by this process go to the real broker (not run eagerly) and the worker runs them."""
    with publishing_to_the_broker():
        yield celery_worker
