"""Celery tasks for ingestion: thin wrappers that load by id and call one service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import transaction

from papers import selectors, services
from papers.models import Feed


@shared_task(name="papers.tasks.fetch_feed")
def fetch_feed(feed_id: int, day: str | None = None) -> dict[str, object]:
    """Fetch one feed and store its papers; safe to run twice (the store is idempotent)."""
    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        return {"feed": feed_id, "status": "gone"}
    run = services.feed_fetch(feed=feed, day=dt.date.fromisoformat(day) if day else None)
    return {"feed": feed.slug, "status": run.status, "new": run.new, "updated": run.updated}


@shared_task(name="papers.tasks.fetch_feeds")
def fetch_feeds(kinds: list[str] | None = None) -> int:
    """Enqueue one fetch_feed per enabled feed (of ``kinds``); return how many."""
    feed_ids = list(selectors.feeds_enabled(kinds=kinds).values_list("pk", flat=True))
    for feed_id in feed_ids:
        transaction.on_commit(lambda feed_id=feed_id: fetch_feed.delay(feed_id))
    return len(feed_ids)
