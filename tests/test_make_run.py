"""`make run`: links follow its PORT, its logs are quiet, and Ctrl-C stops everything with exit 0.

These start the real processes (gunicorn, a Celery worker, Celery beat) with
the embedded defaults (SQLite, the filesystem broker, mail as files) in a
temporary directory, under a pseudo-terminal as a developer's shell runs them.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.smtpsink import free_port
from tests.test_settings import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
VENV = Path(sys.executable).parent.parent
# What the tests' own environment may set that would change what `make run` does.
NOT_INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "EMAIL_PROVIDER",
    "ANYMAIL_PROVIDER",
    "PORT",
    "SITE_URL",
    "LOG_FORMAT",
    "LOG_LEVEL",
}


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(PAPERMAIL_VAR_DIR=str(tmp_path / "var"), WEB_CONCURRENCY="1", WORKER_CONCURRENCY="1", **extra)
    return env


def make_commands(*args: str, env: dict[str, str]) -> str:
    """Return the commands `make run` would run (-n), its set-up steps taken as done (-o demo)."""
    result = subprocess.run(
        ["make", "-n", "-o", "demo", "run", f"VENV={VENV}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_make_run_passes_a_site_url_on_its_port(tmp_path: Path) -> None:
    commands = make_commands("PORT=8123", env=run_env(tmp_path))
    assert 'SITE_URL="http://localhost:8123"' in commands and "manage.py run --port 8123" in commands


def test_make_run_keeps_a_site_url_that_is_set(tmp_path: Path) -> None:
    commands = make_commands("PORT=8123", env=run_env(tmp_path, SITE_URL="https://papers.example.org"))
    assert 'SITE_URL="https://papers.example.org"' in commands


class Terminal:
    """`make run` in a pseudo-terminal of its own: what it prints, and its exit status."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its own session, the terminal its controlling one
            os.chdir(ROOT)
            os.execvpe(argv[0], argv, env)  # noqa: S606 - make, from PATH, as a developer runs it
        self.output = b""

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the other end is gone: everything has exited
                    return

    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", self.output.decode(errors="replace"))

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")

    def wait(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read(0.5)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                self.read(0.5)
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"make run still running {timeout}s after Ctrl-C:\n{self.text()}")

    def close(self) -> None:
        """Kill what is still running (after a failure): make and every process it started."""
        if self.pid:
            for process in psutil.Process(self.pid).children(recursive=True):
                process.kill()
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_make_run_mails_links_on_its_port_logs_quietly_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(tmp_path)
    # The database `make demo` would prepare, and a sign-up whose confirmation is owed.
    prepare = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from subscribers.preferences import Preferences\n"
        "from subscribers.services import RequestInfo\n"
        "from subscribers.signup import subscription_request\n"
        "subscription_request(email='ada@example.org', "
        "preferences=Preferences(topics=['llm']), request=RequestInfo())\n"
    )
    subprocess.run(
        [sys.executable, "-c", prepare],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "newsletter.settings"},
        check=True,
        timeout=180,
    )
    terminal = Terminal(["make", "-o", "demo", "run", f"VENV={VENV}", f"PORT={port}"], env)
    try:
        mail = tmp_path / "var" / "mail"
        deadline = time.monotonic() + 90
        # The web server listens once Django and scikit-learn (for search) are loaded: mail may come first.
        while time.monotonic() < deadline and not (
            list(mail.glob("*.eml")) and "Listening at: " in terminal.text()
        ):
            terminal.read(0.5)
        [message] = mail.glob("*.eml")  # beat's sweep sent the confirmation
        with pytest.raises(urllib.error.HTTPError):  # a 404: Django logs a warning
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here/", timeout=10)
        terminal.read(5)  # beat sweeps a few more times
        terminal.ctrl_c()
        status = terminal.wait(timeout=60)
    finally:
        terminal.close()
    output = terminal.text()

    # Every link in the email is on the port the server listens on.
    assert f"http://localhost:{port}/confirm/".encode() in message.read_bytes().replace(b"=\r\n", b"")
    # The sweep every two seconds says nothing; the warning appears once.
    sweep = re.compile(r"send_owed_link_emails.*(received|succeeded)|Sending due task Send owed link emails")
    assert [line for line in output.splitlines() if sweep.search(line)] == []
    assert output.count("Not Found: /nothing-here/") == 1
    # Ctrl-C: every process stopped by itself, no error, no traceback, and make exits 0.
    for process in ("web.1", "worker.1", "beat.1"):
        assert f"{process} stopped (rc=0)" in output, output
    assert "SIGKILL" not in output and "Traceback" not in output and "ERROR" not in output, output
    assert "Interrupt" not in output and status == 0, output
