"""Writes to the paper catalogue: storing parsed feeds (merged by :mod:`papers.merging`) and feed runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from papers import feeds, merging, signals, site_cache
from papers.db import copy_insert
from papers.feeds.entries import FeedError, PaperEntry, ParsedFeed
from papers.fetching import FetchError, fetch_document
from papers.models import Feed, FetchRun, Paper

logger = logging.getLogger(__name__)

_LOOKUP_CHUNK = 1000
_WRITE_BATCH = 500


@dataclass
class StoreResult:
    """Counts of what storing one document did to the catalogue."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    skipped_reasons: list[str] = field(default_factory=list)


# --- Storing ---------------------------------------------------------------------------------


def _serialise_writers() -> None:
    """Serialise catalogue writes across processes for the rest of the transaction.

    Two feeds can carry the same new paper (a cross-listing); without this, two
    concurrent runs would both try to insert it. SQLite already runs one writer
    at a time (IMMEDIATE transactions).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x7061706572])  # "paper"


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def papers_store(*, parsed: ParsedFeed, source: str, now: dt.datetime | None = None) -> StoreResult:
    """Upsert the papers of one parsed document in one transaction; return the counts.

    Re-storing a document that brings nothing new writes no row; the only
    exception is ``last_seen_at``, refreshed at most once a day per paper.
    """
    now = now or timezone.now()
    result = StoreResult(
        skipped=len(parsed.skipped),
        skipped_reasons=[f"entry {s.position}: {s.reason}" for s in parsed.skipped],
    )
    incoming: dict[str, list[PaperEntry]] = {}
    for entry in parsed.entries:
        incoming.setdefault(entry.arxiv_id, []).append(entry)
    if not incoming:
        return result

    with transaction.atomic():
        _serialise_writers()
        existing = _stored_states(list(incoming))
        to_create, to_update = _plan_writes(incoming, existing, source=source, now=now, result=result)
        copy_insert(Paper, to_create)
        if to_update:
            Paper.objects.bulk_update(to_update, merging.MERGED_FIELDS, batch_size=_WRITE_BATCH)
        added = [paper.arxiv_id for paper in to_create]
        if added:
            transaction.on_commit(lambda: signals.papers_added.send(sender=Paper, arxiv_ids=added))
        if result.new or result.updated:
            site_cache.bump_on_commit()  # the site's cached pages show the catalogue as it was
    return result


def _stored_states(arxiv_ids: list[str]) -> dict[str, merging.State]:
    """Return the stored state, with its row id, of each paper of ``arxiv_ids`` already in the catalogue."""
    existing: dict[str, merging.State] = {}
    for chunk in _chunks(arxiv_ids, _LOOKUP_CHUNK):
        for row in Paper.objects.filter(arxiv_id__in=chunk).values("id", "arxiv_id", *merging.MERGED_FIELDS):
            existing[row["arxiv_id"]] = row
    return existing


def _plan_writes(
    incoming: dict[str, list[PaperEntry]],
    existing: dict[str, merging.State],
    *,
    source: str,
    now: dt.datetime,
    result: StoreResult,
) -> tuple[list[Paper], list[Paper]]:
    """Return the papers to create and to update once ``incoming`` is merged in; count each in ``result``."""
    to_create: list[Paper] = []
    to_update: list[Paper] = []
    for arxiv_id, entries in incoming.items():
        before = existing.get(arxiv_id)
        state = merging.merge_entries(
            before or merging.empty_state(now),
            entries,
            source=source,
            now=now,
            trending_upvotes=settings.PAPERS_TRENDING_UPVOTES,
        )
        if before is None:
            if not state["title"]:
                result.skipped += 1
                result.skipped_reasons.append(f"{arxiv_id}: no title in any entry")
                continue
            to_create.append(Paper(arxiv_id=arxiv_id, first_seen_at=now, **merging.stored_fields(state)))
            result.new += 1
        elif merging.changed(before, state):
            to_update.append(_seen(before, state, now))
            result.updated += 1
        else:
            result.unchanged += 1
            if before["last_seen_at"] is None or before["last_seen_at"].date() < now.date():
                to_update.append(_seen(before, state, now))
    return to_create, to_update


def _seen(before: merging.State, state: merging.State, now: dt.datetime) -> Paper:
    """Return the stored paper ``before`` as ``state``, seen ``now``, ready for bulk_update."""
    fields = {**merging.stored_fields(state), "last_seen_at": now}
    return Paper(pk=before["id"], arxiv_id=before["arxiv_id"], **fields)


# --- Runs ------------------------------------------------------------------------------------------


def document_ingest(
    *,
    data: bytes,
    source: str,
    fmt: str | None = None,
    feed: Feed | None = None,
    http_status: int | None = None,
    quote_document: bool = True,
) -> FetchRun:
    """Parse and store one document, logging it as a FetchRun; never raises for bad input.

    With ``quote_document=False`` (a document fetched from a URL) the run's
    error gives the reason only, never the document's own words or an internal
    error's text; those go to the log.
    """
    run = FetchRun.objects.create(
        feed=feed,
        source=source[:500],
        format=fmt or "",
        http_status=http_status,
        bytes_read=len(data),
    )
    try:
        detected = feeds.detect_format(data)
        if fmt and detected != fmt:
            raise FeedError(f"expected a {fmt} document but this looks like {detected}")
        run.format = detected
        parsed = feeds.parse(data, detected)
        stored = papers_store(parsed=parsed, source=detected)
    except FeedError as error:
        if quote_document:
            return _finish(run, status=FetchRun.Status.ERROR, error=str(error))
        if error.detail:
            logger.warning("%s is not a usable feed: %s: %.300s", source, error.reason, error.detail)
        return _finish(run, status=FetchRun.Status.ERROR, error=error.reason)
    except Exception as error:
        logger.exception("ingest of %s failed", source)
        problem = repr(error) if quote_document else type(error).__name__
        return _finish(run, status=FetchRun.Status.ERROR, error=f"internal error: {problem}")
    for reason in stored.skipped_reasons[:20]:
        logger.info("skipped in %s: %s", source, reason)
    return _finish(
        run,
        status=FetchRun.Status.OK,
        new=stored.new,
        updated=stored.updated,
        unchanged=stored.unchanged,
        skipped=stored.skipped,
        notes="\n".join(stored.skipped_reasons[:50]),
    )


def feed_url(feed: Feed, *, day: dt.date | None = None) -> str:
    """Return the URL to fetch for ``feed``, for ``day`` where the source has per-day listings."""
    if day is None:
        return feed.url
    if feed.kind != Feed.Kind.HF_JSON:
        raise ValueError(f"{feed.slug} is a {feed.kind} feed; only Hugging Face JSON takes a date")
    separator = "&" if "?" in feed.url else "?"
    return f"{feed.url}{separator}date={day.isoformat()}"


def feed_fetch(*, feed: Feed, day: dt.date | None = None) -> FetchRun:
    """Fetch ``feed`` (for ``day``, a backfill) and store its papers; return the run's record.

    Every failure ends as the run's error, never as an exception, so one feed
    failing does not stop the others. The cache validators are kept only after
    a successful store, so a failed run is fetched in full next time.
    """
    url = feed_url(feed, day=day)
    conditional = day is None
    try:
        fetched = fetch_document(
            url,
            etag=feed.etag if conditional else "",
            last_modified=feed.last_modified if conditional else "",
        )
    except FetchError as error:
        run = FetchRun.objects.create(feed=feed, source=url, format=feed.kind)
        return _record_on_feed(feed, _finish(run, status=FetchRun.Status.ERROR, error=str(error)))

    if fetched.not_modified:
        run = FetchRun.objects.create(feed=feed, source=url, format=feed.kind, http_status=304)
        return _record_on_feed(feed, _finish(run, status=FetchRun.Status.NOT_MODIFIED))

    if fetched.status >= 400:
        run = FetchRun.objects.create(feed=feed, source=url, format=feed.kind, http_status=fetched.status)
        return _record_on_feed(
            feed, _finish(run, status=FetchRun.Status.ERROR, error=_http_error(fetched.status))
        )

    run = document_ingest(
        data=fetched.body or b"",
        source=url,
        fmt=feed.kind,
        feed=feed,
        http_status=fetched.status,
        quote_document=False,
    )
    if run.status == FetchRun.Status.OK and conditional:
        feed.etag = fetched.etag[:255]
        feed.last_modified = fetched.last_modified[:64]
    return _record_on_feed(feed, run)


def _http_error(status: int) -> str:
    """Return an error for an HTTP failure: the status and its standard phrase, never the body."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _finish(run: FetchRun, *, status: str, error: str = "", **outcome: Any) -> FetchRun:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    for name, value in outcome.items():
        setattr(run, name, value)
    run.save()
    return run


def _record_on_feed(feed: Feed, run: FetchRun) -> FetchRun:
    feed.last_run_at = run.finished_at
    feed.last_status = {
        FetchRun.Status.OK: Feed.Status.OK,
        FetchRun.Status.NOT_MODIFIED: Feed.Status.NOT_MODIFIED,
    }.get(run.status, Feed.Status.ERROR)
    feed.last_error = run.error if run.status == FetchRun.Status.ERROR else ""
    feed.last_new, feed.last_updated = run.new, run.updated
    feed.last_unchanged, feed.last_skipped = run.unchanged, run.skipped
    feed.save(update_fields=list(Feed.RUN_FIELDS))
    return run
