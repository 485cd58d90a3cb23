"""Run a real Celery worker process against the test database and a private Redis database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
# Workers started by tests use their own Redis database so they never meet a developer's queue
# (PAPERMAIL_TEST_WORKER_REDIS_DB lets two suites run side by side on one Redis).
TEST_REDIS_DB = int(os.environ.get("PAPERMAIL_TEST_WORKER_REDIS_DB", "15"))


def worker_broker_url() -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{TEST_REDIS_DB}", "", ""))


def worker_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(
    tmp_path: Path,
    *,
    concurrency: int = 2,
    queues: str = "default,ingest",
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``celery worker`` as a child process; stop it (TERM, then KILL) on exit."""
    import redis

    redis.Redis.from_url(worker_broker_url()).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsletter.settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": worker_broker_url(),
        "PAPERMAIL_VAR_DIR": str(tmp_path / "worker-var"),
        "FEED_RETRY_BACKOFF": "0.05",
        **(extra_env or {}),
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "newsletter",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_ready(tmp_path / "worker.log", process)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_ready(log_path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log_path.read_text(errors='replace')}")
        if b"ready." in log_path.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{log_path.read_text(errors='replace')}")


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; return that, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@contextmanager
def real_queue() -> Iterator[None]:
    """Send tasks from this process to the test workers' broker instead of running them in-process."""
    from newsletter.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, worker_broker_url()
    app._pool = app.amqp._producer_pool = None  # rebuilt from the new broker URL
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = app.amqp._producer_pool = None
