"""`make run`: links follow its PORT."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert 'SITE_URL="http://localhost:8123"' in commands and "--port 8123" in commands


def test_make_run_keeps_a_site_url_that_is_set(tmp_path: Path) -> None:
    commands = make_commands("PORT=8123", env=run_env(tmp_path, SITE_URL="https://papers.example.org"))
    assert 'SITE_URL="https://papers.example.org"' in commands
