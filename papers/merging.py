"""How an entry from a source updates a stored paper: the merge rules, pure (no database).

A paper's state is a dict of :data:`MERGED_FIELDS`, as stored. arXiv sources
own the bibliographic fields, and a newer version replaces them; Hugging Face
only fills what arXiv has not said, and owns its own signals (upvotes, AI
summary, code links). Dates keep the earliest announcement, so a later
"replace" never makes an old paper new again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from papers.feeds.entries import ARXIV_API, ARXIV_RSS, PaperEntry

State = dict[str, Any]

ARXIV_SOURCES = frozenset({ARXIV_RSS, ARXIV_API})

# Fields a feed can change on a paper; everything the merge below decides.
MERGED_FIELDS = (
    "version",
    "title",
    "abstract",
    "author_names",
    "primary_category",
    "categories",
    "published_at",
    "updated_at",
    "announced_on",
    "abs_url",
    "pdf_url",
    "hf_url",
    "code_url",
    "project_url",
    "upvotes",
    "hf_comments",
    "ai_summary",
    "ai_keywords",
    "thumbnail_url",
    "organization",
    "github_stars",
    "hf_daily_on",
    "doi",
    "journal_ref",
    "comment",
    "sources",
    "trending_since",
    "last_seen_at",
)


def empty_state(now: dt.datetime) -> State:
    """Return the state of a paper no source has described yet, seen ``now``."""
    return {
        "version": None,
        "title": "",
        "abstract": "",
        "author_names": [],
        "primary_category": "",
        "categories": [],
        "published_at": None,
        "updated_at": None,
        "announced_on": None,
        "abs_url": "",
        "pdf_url": "",
        "hf_url": "",
        "code_url": "",
        "project_url": "",
        "upvotes": None,
        "hf_comments": None,
        "ai_summary": "",
        "ai_keywords": [],
        "thumbnail_url": "",
        "organization": "",
        "github_stars": None,
        "hf_daily_on": None,
        "doi": "",
        "journal_ref": "",
        "comment": "",
        "sources": [],
        "trending_since": None,
        "last_seen_at": now,
    }


def merge_entries(
    state: State, entries: Iterable[PaperEntry], *, source: str, now: dt.datetime, trending_upvotes: int
) -> State:
    """Return ``state`` with each of ``entries`` from ``source`` merged in, in order.

    A paper that reaches ``trending_upvotes`` for the first time is trending
    from ``now``: when it caught on, so readers who had its day may get it now.
    """
    merged = dict(state)
    for entry in entries:
        merged = merge_entry(merged, entry, source=source)
    if merged["trending_since"] is None and (merged["upvotes"] or 0) >= trending_upvotes:
        merged["trending_since"] = now
    return merged


def merge_entry(state: State, entry: PaperEntry, *, source: str) -> State:
    """Return ``state`` (a paper's merged fields) with what ``entry`` from ``source`` adds."""
    merged = dict(state)
    from_arxiv = source in ARXIV_SOURCES
    current, incoming = state["version"], entry.version
    newer = incoming is not None and (current is None or incoming > current)
    not_older = incoming is None or current is None or incoming >= current

    _merge_bibliography(merged, entry, arxiv_owns=from_arxiv and not_older)
    _merge_categories(
        merged,
        entry,
        replace=from_arxiv and newer and bool(state["categories"]),
        primary_owned=source == ARXIV_API and not_older,
    )
    _merge_versions_and_dates(merged, entry)
    _fill_links(merged, entry)
    _take_hugging_face_signals(merged, entry)
    if source not in merged["sources"]:
        merged["sources"] = [*merged["sources"], source]
    return merged


def _merge_bibliography(merged: State, entry: PaperEntry, *, arxiv_owns: bool) -> None:
    """arXiv at the paper's version or a newer one overwrites what it says; other entries fill blanks."""
    if arxiv_owns:
        for name in ("title", "abstract", "doi", "journal_ref", "comment"):
            value = getattr(entry, name)
            if value:
                merged[name] = value
        if entry.author_names:
            merged["author_names"] = list(entry.author_names)
        return
    for name in ("title", "abstract"):
        if not merged[name] and getattr(entry, name):
            merged[name] = getattr(entry, name)
    if not merged["author_names"] and entry.author_names:
        merged["author_names"] = list(entry.author_names)


def _merge_categories(merged: State, entry: PaperEntry, *, replace: bool, primary_owned: bool) -> None:
    """A newer arXiv version replaces the categories, other entries add to them; the primary comes first.

    The primary category is taken when there is none yet, or from the arXiv
    API, which names it outright, at the paper's version or a newer one.
    """
    if entry.categories:
        if replace:
            merged["categories"] = list(entry.categories)
        else:
            merged["categories"] = list(dict.fromkeys([*merged["categories"], *entry.categories]))
    if entry.primary_category and (not merged["primary_category"] or primary_owned):
        merged["primary_category"] = entry.primary_category
    if merged["primary_category"] and merged["primary_category"] not in merged["categories"]:
        merged["categories"] = [merged["primary_category"], *merged["categories"]]


def _merge_versions_and_dates(merged: State, entry: PaperEntry) -> None:
    """Keep the latest version and update, and the earliest publication and announcements."""
    merged["version"] = _latest(merged["version"], entry.version)
    merged["published_at"] = _earliest(merged["published_at"], entry.published_at)
    merged["updated_at"] = _latest(merged["updated_at"], entry.updated_at)
    merged["announced_on"] = _earliest(merged["announced_on"], entry.announced_on)
    merged["hf_daily_on"] = _earliest(merged["hf_daily_on"], entry.hf_daily_on)


def _fill_links(merged: State, entry: PaperEntry) -> None:
    """The first source to give an abstract, PDF or Hugging Face link keeps it."""
    for name in ("abs_url", "pdf_url", "hf_url"):
        if not merged[name] and getattr(entry, name):
            merged[name] = getattr(entry, name)


def _take_hugging_face_signals(merged: State, entry: PaperEntry) -> None:
    """Hugging Face's signals change from day to day: the latest non-empty word wins."""
    for name in ("code_url", "project_url", "ai_summary", "thumbnail_url", "organization"):
        if getattr(entry, name):
            merged[name] = getattr(entry, name)
    for name in ("upvotes", "hf_comments", "github_stars"):
        if getattr(entry, name) is not None:
            merged[name] = getattr(entry, name)
    if entry.ai_keywords:
        merged["ai_keywords"] = list(entry.ai_keywords)


def _earliest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def changed(before: State, after: State) -> bool:
    """Return whether merging changed anything worth a write (a sighting alone is not)."""
    return any(before[name] != after[name] for name in MERGED_FIELDS if name != "last_seen_at")


def stored_fields(state: State) -> State:
    """Return the merged fields of ``state``, without the row's id and arXiv id."""
    return {name: state[name] for name in MERGED_FIELDS}
