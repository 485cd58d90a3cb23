"""Reads of the paper catalogue."""

from __future__ import annotations

from django.db.models import F, QuerySet

from papers.models import Feed, Paper


def papers_latest(*, limit: int = 50) -> list[Paper]:
    """Return the most recently announced visible papers, most upvoted first within a day."""
    return list(
        Paper.objects.filter(hidden=False)
        .order_by(F("announced_on").desc(nulls_last=True), F("upvotes").desc(nulls_last=True), "-arxiv_id")
        .only(
            "arxiv_id",
            "title",
            "author_names",
            "primary_category",
            "categories",
            "announced_on",
            "upvotes",
            "abs_url",
            "pdf_url",
            "hf_url",
            "code_url",
            "featured",
        )[:limit]
    )


def feeds_enabled(*, kinds: list[str] | None = None) -> QuerySet[Feed]:
    """Return the enabled feeds, of the given kinds when ``kinds`` is set."""
    feeds = Feed.objects.filter(enabled=True)
    if kinds:
        feeds = feeds.filter(kind__in=kinds)
    return feeds.order_by("slug")
