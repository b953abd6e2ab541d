"""`make run` as a newcomer runs it: on another port, the demo's e-mails link to that port, and Ctrl-C stops
the web server and the worker cleanly (no "Segmentation fault", nothing left running)."""

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.clock.shift import child_environment
from tests.e2e.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_on_another_port_links_there_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SITE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    environment["OZONSEAT_VAR_DIR"] = str(tmp_path / "var")
    log = tmp_path / "make-run.log"
    with open(log, "w") as output:
        # A session of its own, like a terminal's foreground process group: Ctrl-C signals all of it.
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            env=child_environment(environment),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        outbox = tmp_path / "var" / "outbox"

        def demo_invitation_sent():
            if make.poll() is not None:
                raise AssertionError(f"make run exited ({make.returncode}):\n{log.read_text()[-3000:]}")
            return sorted(outbox.glob("*.eml")) if outbox.is_dir() else []

        messages = wait_until(demo_invitation_sent, timeout=240, interval=0.5, message="the demo's e-mail")
        text = messages[0].read_text()
        links = set(re.findall(r"https?://[^\s\"<>]+/invitations/[^\s\"<>]+/", text))
        assert links and all(link.startswith(f"http://127.0.0.1:{port}/") for link in links), links
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/login/" in printed
        assert f"http://127.0.0.1:{port}/dev/outbox/" in printed
        assert "127.0.0.1:8000" not in printed

        def serving():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_until(serving, timeout=60, interval=0.5, message="the sign-in page")

        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C does
        make.wait(timeout=60)
        wait_until(lambda: not _group_alive(make.pid), timeout=30, message="every process of make run to end")
    finally:
        if _group_alive(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(timeout=10)
    printed = log.read_text()
    assert "Segmentation fault" not in printed, printed[-3000:]
    assert printed.count("Warm shutdown") == 1, printed[-3000:]
    time.sleep(0.5)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
