"""arXiv's two formats: the per-category RSS listing (``arxiv-rss``) and API Atom (``arxiv-api``)."""

from __future__ import annotations

import datetime as dt
import html
import re
from email.utils import parsedate_to_datetime
from typing import Any

from papers.feeds.entries import (
    ARXIV_API,
    ARXIV_RSS,
    FeedError,
    PaperEntry,
    ParsedFeed,
    abs_url_for,
    pdf_url_for,
    split_arxiv_id,
    web_url,
)
from papers.feeds.feedparsing import read_feed, struct_to_datetime
from papers.names import collapse_whitespace, split_authors, tex_to_unicode

# Announce types in arXiv's RSS; only the first two put a paper in the day's news.
NEW_ANNOUNCE_TYPES = frozenset({"new", "cross"})
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})
_ANNOUNCE_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)(?:v(?P<version>\d+))?\s+Announce Type:\s*(?P<type>\S+)\s*"
    r"(?:\n|\s)\s*Abstract:\s*(?P<abstract>.*)$",
    re.DOTALL,
)


def _rfc822_date(value: str | None) -> dt.date | None:
    """Return the calendar date an RFC 822 date names, in its own offset."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def _tag_terms(entry: Any) -> tuple[str, ...]:
    terms: list[str] = []
    for tag in entry.get("tags") or []:
        term = collapse_whitespace(tag.get("term") or "")
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


# --- RSS listing (arxiv-rss) -------------------------------------------------------------------


def parse_rss(data: bytes) -> ParsedFeed:
    """Return the entries of an arXiv RSS listing; a paper is news only when announced new or cross-listed."""
    document = read_feed(data, "arXiv RSS")
    channel = document.feed
    title = collapse_whitespace(channel.get("title", ""))
    if title.startswith("Feed error"):
        detail = collapse_whitespace(html.unescape(channel.get("description", "")))
        raise FeedError("arXiv answered with an error feed", f"{title}. {detail}".strip())
    parsed = ParsedFeed(format=ARXIV_RSS, title=title, announced_on=_rfc822_date(channel.get("published")))
    parsed.read_entries(document.entries, lambda item: _rss_entry(item, parsed.announced_on))
    return parsed


def _rss_entry(item: Any, feed_date: dt.date | None) -> PaperEntry:
    description = html.unescape(item.get("summary", "") or "")
    match = _ANNOUNCE_RE.match(description)
    if match:
        arxiv_id, version = split_arxiv_id(match.group("id"))
        version = int(match.group("version")) if match.group("version") else version
        announce_type = match.group("type").lower()
        abstract = match.group("abstract")
    else:
        # No "arXiv:... Announce Type:" preamble: fall back on the guid and the tag.
        arxiv_id, version = split_arxiv_id(item.get("id") or item.get("link") or "")
        announce_type = (item.get("arxiv_announce_type") or "").lower()
        abstract = description
    announce_type = (item.get("arxiv_announce_type") or announce_type).strip().lower()
    if announce_type and announce_type not in ANNOUNCE_TYPES:
        raise ValueError(f"{arxiv_id}: unknown announce type {announce_type!r}")
    title = collapse_whitespace(html.unescape(item.get("title", "")))
    if not title:
        raise ValueError(f"{arxiv_id}: entry has no title")
    categories = _tag_terms(item)
    item_date = _rfc822_date(item.get("published")) or feed_date
    return PaperEntry(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=collapse_whitespace(abstract),
        author_names=tuple(split_authors(item.get("author", "") or "")),
        primary_category=categories[0] if categories else "",
        categories=categories,
        announce_type=announce_type,
        announced_on=item_date if announce_type in NEW_ANNOUNCE_TYPES else None,
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        doi=collapse_whitespace(item.get("arxiv_doi", "") or ""),
        journal_ref=collapse_whitespace(item.get("arxiv_journal_reference", "") or ""),
    )


# --- API Atom (arxiv-api) ------------------------------------------------------------------------


def parse_api(data: bytes) -> ParsedFeed:
    """Return the entries of an arXiv API Atom result, or raise FeedError for the API's error entry."""
    document = read_feed(data, "arXiv API Atom")
    if not document.get("version", "").startswith("atom"):
        raise FeedError("expected arXiv API Atom but got an RSS document")
    for entry in document.entries:
        if "/api/errors" in (entry.get("id") or ""):
            detail = collapse_whitespace(entry.get("summary", "")) or entry.get("id")
            raise FeedError("arXiv API error", detail)
    total = document.feed.get("opensearch_totalresults")
    parsed = ParsedFeed(
        format=ARXIV_API,
        title=collapse_whitespace(document.feed.get("title", "")),
        total_results=int(total) if total and str(total).strip().isdigit() else None,
    )
    parsed.read_entries(document.entries, _api_entry)
    return parsed


def _api_entry(entry: Any) -> PaperEntry:
    arxiv_id, version = split_arxiv_id(entry.get("id", ""))
    title = collapse_whitespace(entry.get("title", ""))
    if not title:
        raise ValueError(f"{arxiv_id}: entry has no title")
    categories = _tag_terms(entry)
    primary = collapse_whitespace((entry.get("arxiv_primary_category") or {}).get("term", ""))
    if primary:
        categories = (primary, *(term for term in categories if term != primary))
    pdf_url = ""
    for link in entry.get("links") or []:
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf_url = web_url(link.get("href")).replace("http://", "https://", 1)
    authors = tuple(
        tex_to_unicode(author.get("name", "")) for author in entry.get("authors") or [] if author.get("name")
    )
    return PaperEntry(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=collapse_whitespace(entry.get("summary", "")),
        author_names=authors,
        primary_category=primary or (categories[0] if categories else ""),
        categories=categories,
        published_at=struct_to_datetime(entry.get("published_parsed")),
        updated_at=struct_to_datetime(entry.get("updated_parsed")),
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url or pdf_url_for(arxiv_id),
        doi=collapse_whitespace(entry.get("arxiv_doi", "") or ""),
        journal_ref=collapse_whitespace(entry.get("arxiv_journal_ref", "") or ""),
        comment=collapse_whitespace(entry.get("arxiv_comment", "") or ""),
    )
