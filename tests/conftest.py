"""Shared test setup: service markers, the local feed server, sample documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.httpserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "feeds"
DEMO = ROOT / "papers" / "demo"
SHARED_FEEDS = ROOT.parent / "shared" / "fixtures" / "feeds"

# CI sets this: there, a test skipped for a missing server is a failure.
REQUIRE_SERVICES = os.environ.get("PAPERMAIL_REQUIRE_SERVICES") == "1"


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PAPERMAIL_REQUIRE_SERVICES=1: nothing real may be skipped)")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing_service("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/papermail")
    if item.get_closest_marker("redis") and not _redis_reachable():
        _missing_service("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 to a running server")


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A local HTTP server that answers with scripted responses, started per test."""
    server = FeedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sample() -> SampleReader:
    return SampleReader()


class SampleReader:
    """Reads the sample documents written for these tests, and the demo feeds."""

    def __call__(self, name: str) -> bytes:
        for folder in (SAMPLES, DEMO):
            path = folder / name
            if path.exists():
                return path.read_bytes()
        raise FileNotFoundError(name)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Rate-limit counters, the topics on the forms and the digest cache must not leak between tests."""
    from django.core.cache import cache

    from newsletter import cache as digest_cache
    from subscribers.selectors import forget_topic_choices

    cache.clear()
    digest_cache.reset()
    forget_topic_choices()
    yield


@pytest.fixture
def default_topics() -> None:
    """Re-create the migration's default topics (transactional tests flush them away)."""
    import importlib

    from django.apps import apps

    importlib.import_module("subscribers.migrations.0002_default_topics").create(apps, None)


@pytest.fixture
def roles() -> None:
    """Re-create the Editors and Admins groups (transactional tests flush them away)."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    migration = importlib.import_module("newsletter.migrations.0004_roles")

    def permissions(pairs):  # type: ignore[no-untyped-def]
        return [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in pairs]

    Group.objects.get_or_create(name="Editors")[0].permissions.set(permissions(migration.EDITOR_PERMISSIONS))
    Group.objects.get_or_create(name="Admins")[0].permissions.set(
        permissions(migration.EDITOR_PERMISSIONS + migration.ADMIN_EXTRA_PERMISSIONS)
    )
