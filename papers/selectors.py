"""Reads of the paper catalogue."""

from __future__ import annotations

import re

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower

from papers.models import Feed, Paper
from papers.names import name_key
from papers.references import title_key, title_variants


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


def papers_by_arxiv_ids(*, arxiv_ids: list[str]) -> dict[str, Paper]:
    """Return the catalogue's papers with these arXiv ids, by id (one query; unknown ids are left out)."""
    return {paper.arxiv_id: paper for paper in Paper.objects.filter(arxiv_id__in=arxiv_ids)}


def papers_by_titles(*, titles: list[str]) -> dict[str, Paper]:
    """Return catalogue papers whose title is one of ``titles``, by title key (case, TeX, punctuation aside).

    One query on the lower-cased title narrows the catalogue; the key then decides.
    """
    keys = {title_key(title): title for title in titles if title_key(title)}
    variants = {variant for title in keys.values() for variant in title_variants(title)}
    if not variants:
        return {}
    found: dict[str, Paper] = {}
    candidates = Paper.objects.annotate(lower_title=Lower("title")).filter(lower_title__in=variants)
    for paper in candidates.order_by("-announced_on", "arxiv_id")[: len(variants) * 2]:
        found.setdefault(title_key(paper.title), paper)
    return {key: found[key] for key in keys if key in found}


def papers_by_author(*, name: str, limit: int) -> list[Paper]:
    """Return up to ``limit`` catalogue papers with ``name`` among their authors, newest first.

    The surname narrows the catalogue in the database; the name key (accents,
    case and punctuation aside) decides.
    """
    key = name_key(name)
    words = re.findall(r"[^\W\d_]+", name)
    if not key or not words:
        return []
    surname = max(words, key=len)
    # The name as typed, or without its accents: "Ramírez" finds "Ramirez" too.
    narrow = Q(author_names__icontains=surname) | Q(author_names__icontains=name_key(surname))
    found = []
    candidates = Paper.objects.filter(narrow).order_by(F("announced_on").desc(nulls_last=True), "-arxiv_id")
    for paper in candidates[: limit * 20]:
        if any(name_key(author) == key for author in paper.author_names):
            found.append(paper)
            if len(found) == limit:
                break
    return found
