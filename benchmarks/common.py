"""Shared helpers for the benchmarks: their own PostgreSQL database, Django setup, machine facts."""

from __future__ import annotations

import http.client
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/papermail_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_env() -> dict[str, str]:
    """Return the environment for the benchmark's processes: production settings, its own database."""
    return {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "DJANGO_SETTINGS_MODULE": "newsletter.settings",
        # Measure production settings: DEBUG on would record every query.
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + os.urandom(32).hex(),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SITE_URL": "https://papers.example.org",
        "PAPERMAIL_VAR_DIR": str(ROOT / "var" / "bench"),
        "DEFAULT_FROM_EMAIL": "papermail <digest@papers.example.org>",
        "SECURE_SSL_REDIRECT": "0",
    }


def setup_django(*, migrate: bool = True) -> None:
    """Point this process at the benchmark database and start Django."""
    env = bench_env()
    ensure_database(env["DATABASE_URL"])
    # The benchmark's own database and Redis, whatever DATABASE_URL / REDIS_URL say (CI sets them for the tests).
    os.environ.update(env)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Seconds the fastest of ``runs`` calls of ``action`` took."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def percentile(ordered: list[float], rank: float) -> float:
    """The ``rank``-th percentile (0-100) of values sorted in ascending order."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * rank / 100))]


def _fixed_work() -> int:
    """The same Python work every time: formatting and summing, as much of a web request is."""
    total = 0
    for i in range(750_000):
        total += len(f"{i}:{i * 7 % 13}")
    return total


def host_now(flushes: int = 500) -> str:
    """One line on how fast this shared host is right now, to read the figures printed beside it.

    On the development hosts the same code's figures move by up to 2x from one
    half hour to the next, and the disk sometimes takes hundreds of milliseconds
    over a flush that usually takes a tenth of a millisecond. This times a fixed piece of
    Python work (the best of three) and ``flushes`` 8 kB writes, each followed by
    fdatasync as a commit is, in var/bench (on the database's disk when it is local). About half a second.
    """
    work = best_of(3, _fixed_work)
    directory = ROOT / "var" / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / "flush-probe"
    block = os.urandom(8192)
    times = []
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for i in range(flushes):
            started = time.perf_counter()
            os.pwrite(fd, block, (i % 16) * len(block))
            os.fdatasync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)
    times = [seconds * 1000 for seconds in sorted(times)]
    return (
        f"host now: fixed Python work {work * 1000:.0f} ms; {flushes} 8 kB writes + fdatasync "
        f"p50 {percentile(times, 50):.2f} ms, p99 {percentile(times, 99):.2f} ms, longest {times[-1]:.1f} ms"
    )


def postgres_cpu_seconds() -> float:
    """CPU seconds of every postgres process, and of the backends that have exited (the server's children)."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        times = proc.info["cpu_times"]
        if proc.info["name"] and proc.info["name"].startswith("postgres") and times:
            total += times.user + times.system + times.children_user + times.children_system
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its living children (gunicorn's master and workers)."""
    root = psutil.Process(pid)
    return sum(sum(proc.cpu_times()[:2]) for proc in (root, *root.children(recursive=True)))


ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


class Web:
    """gunicorn serving papermail with production settings, as in production, and a sign-up form's CSRF pair.

    The rate limiter is off (``RATE_LIMITS_ENABLED=0``): otherwise it would,
    rightly, stop one client address signing up hundreds of addresses.
    gunicorn reads the rest of its settings from gunicorn.conf.py.
    """

    def __init__(self, *, workers: int, port: int, log: Path, access_log: Path | None = None) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            **bench_env(),
            "RATE_LIMITS_ENABLED": "0",
            "SECURE_SSL_REDIRECT": "0",
            "CONN_MAX_AGE": "600",
        }
        # Production settings serve hashed static files: collect them first, as a release would.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        log.parent.mkdir(parents=True, exist_ok=True)
        # As the Procfile logs each request; here with the method, path, status and time in the server (µs).
        logging = (
            ("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT) if access_log else ()
        )
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "newsletter.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"),
                *logging,
            ],
            cwd=ROOT,
            env=env,
            stdout=open(log, "wb"),
            stderr=subprocess.STDOUT,
        )
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(150):
            try:
                page = opener.open(self.base + "/subscribe/", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            self.close()
            raise SystemExit(log.read_text())
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        self.cookie = next(c.value for c in jar if c.name == "csrftoken")
        # Warm every worker's connections before anything is measured.
        for _ in range(workers * 4):
            opener.open(self.base + "/subscribe/", timeout=5).read()

    def sign_up(self, email: str) -> int:
        """POST the sign-up form for ``email``; return the status (302: accepted)."""
        body = urlencode(
            {
                "csrfmiddlewaretoken": self.token,
                "email": email,
                "topics": "llm",
                "keywords": "reasoning",
                "cadence": "daily",
                "timezone": "Europe/Paris",
                "send_hour": "7",
            }
        )
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                "POST",
                "/subscribe/",
                body,
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={self.cookie}",
                    "Referer": self.base + "/subscribe/",
                },
            )
            return connection.getresponse().status
        finally:
            connection.close()

    def close(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
