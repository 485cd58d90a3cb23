"""Celery tasks for ingestion: thin wrappers that load by id and call one service."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import transaction

from papers import selectors, services, vectors
from papers.embedding import EmbeddingError
from papers.models import Feed

logger = logging.getLogger(__name__)


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


@shared_task(name="papers.tasks.embed_papers")
def embed_papers(arxiv_ids: list[str]) -> int:
    """Embed papers new to the catalogue with the active version; safe to run twice."""
    return vectors.papers_embed(arxiv_ids=arxiv_ids)


@shared_task(name="papers.tasks.refit_embedding")
def refit_embedding() -> int | None:
    """Beat's refit: a new embedding version fitted on the catalogue; returns its version."""
    try:
        return vectors.embedding_refit().pk
    except EmbeddingError as error:
        logger.warning("embedding refit skipped: %s", error)
        return None


def embed_after_ingest(sender: object, *, arxiv_ids: list[str], **kwargs: object) -> None:
    """Receiver of papers_added (connected in apps.py): hand the new papers to an ingest worker."""
    embed_papers.delay(list(arxiv_ids))
