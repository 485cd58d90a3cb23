"""Shared test setup: service markers, the local feed server, sample documents."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
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
def local_feeds(settings) -> None:  # type: ignore[no-untyped-def]
    """Let feeds be fetched from the local feed server (127.0.0.1), as production never does."""
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True


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
    """Rate-limit counters, the topics on the forms and the process cache must not leak between tests."""
    from django.core.cache import cache

    from papers import cache as process_cache

    cache.clear()
    process_cache.reset()
    yield


@pytest.fixture
def default_topics() -> None:
    """Re-create the migration's default topics (transactional tests flush them away)."""
    import importlib

    from papers.models import Topic

    migration = importlib.import_module("subscribers.migrations.0002_default_topics")
    for position, (name, slug, description, categories, include, exclude) in enumerate(migration.TOPICS):
        Topic.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "categories": categories,
                "include_keywords": include,
                "exclude_keywords": exclude,
                "position": position,
            },
        )


# The groups and their permissions as the migrations left them, read once the test database is made.
MIGRATED_ROLES: dict[str, list[tuple[str, str]]] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """pytest-django's test database, and a note of the roles its migrations made (see ``roles``)."""
    from django.contrib.auth.models import Group

    with django_db_blocker.unblock():
        MIGRATED_ROLES.update(
            {
                group.name: list(group.permissions.values_list("content_type__app_label", "codename"))
                for group in Group.objects.all()
            }
        )


@pytest.fixture
def roles() -> None:
    """Re-create the Editors and Admins groups as migrated (transactional tests flush them away)."""
    from django.contrib.auth.models import Group, Permission

    for name, pairs in MIGRATED_ROLES.items():
        Group.objects.get_or_create(name=name)[0].permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in pairs]
        )


@pytest.fixture
def webhook_provider() -> Iterator[Callable[[str], None]]:
    """Mount the webhook URLs of an ANYMAIL_PROVIDER, as a server started with it would (URLs load once)."""
    from django.test import override_settings

    overrides: list[override_settings] = []

    def mount(provider: str) -> None:
        if overrides and provider == settings.ANYMAIL_PROVIDER:
            return  # mounted already (Hypothesis runs a test's body many times)
        override = override_settings(ANYMAIL_PROVIDER=provider)
        override.enable()
        overrides.append(override)
        _reload_urls()

    yield mount
    for override in reversed(overrides):
        override.disable()
    _reload_urls()


def _reload_urls() -> None:
    import importlib

    from django.urls import clear_url_caches

    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()
