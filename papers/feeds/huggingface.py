"""Hugging Face daily papers: the JSON API (``hf-json``) and the feedgen-made RSS (``hf-rss``)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

from papers.feeds.entries import (
    HF_JSON,
    HF_RSS,
    FeedError,
    PaperEntry,
    ParsedFeed,
    SkippedEntry,
    abs_url_for,
    hf_url_for,
    pdf_url_for,
    split_arxiv_id,
    web_url,
)
from papers.feeds.feedparsing import read_feed, struct_to_datetime
from papers.names import collapse_whitespace

# --- Daily papers JSON (hf-json) ------------------------------------------------------------------


def parse_json(data: bytes) -> ParsedFeed:
    """Return the entries of a Hugging Face daily papers JSON list; the feed's day is its latest."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FeedError(f"malformed JSON: not UTF-8 ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise FeedError(f"malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    if isinstance(document, dict):
        if "error" in document:
            raise FeedError("Hugging Face API error", str(document["error"]))
        raise FeedError("expected a JSON list of daily papers but got an object")
    if not isinstance(document, list):
        raise FeedError("expected a JSON list of daily papers")
    parsed = ParsedFeed(format=HF_JSON, title="Hugging Face Daily Papers")
    days: list[dt.date] = []
    for position, item in enumerate(document):
        try:
            entry = _json_entry(item)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            parsed.skipped.append(SkippedEntry(position, _entry_error(error)))
            continue
        parsed.entries.append(entry)
        if entry.hf_daily_on:
            days.append(entry.hf_daily_on)
    parsed.announced_on = max(days) if days else None
    return parsed


def _entry_error(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error) or type(error).__name__


def _iso_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(value: Any) -> str:
    return collapse_whitespace(value) if isinstance(value, str) else ""


def _json_entry(item: Any) -> PaperEntry:
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, got {type(item).__name__}")
    # 2024 onward nests the paper under "paper"; some mirrors flatten it.
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    raw_id = paper.get("id") or item.get("id")
    if not isinstance(raw_id, str):
        raise ValueError("entry has no paper id")
    arxiv_id, version = split_arxiv_id(raw_id)
    title = _text(paper.get("title")) or _text(item.get("title"))
    if not title:
        raise ValueError(f"{arxiv_id}: entry has no title")
    authors = []
    for author in paper.get("authors") or []:
        if isinstance(author, dict) and author.get("hidden") is True:
            continue  # Hugging Face hides authors it extracted wrongly
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            authors.append(collapse_whitespace(name))
    daily_at = _iso_datetime(paper.get("submittedOnDailyAt")) or _iso_datetime(item.get("publishedAt"))
    organization = item.get("organization") or paper.get("organization") or {}
    org_name = ""
    if isinstance(organization, dict):
        org_name = _text(organization.get("fullname")) or _text(organization.get("name"))
    keywords = paper.get("ai_keywords") or []
    return PaperEntry(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=_text(paper.get("summary")) or _text(item.get("summary")),
        author_names=tuple(authors),
        published_at=_iso_datetime(paper.get("publishedAt")),
        announced_on=daily_at.date() if daily_at else None,
        hf_daily_on=daily_at.date() if daily_at else None,
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        hf_url=hf_url_for(arxiv_id),
        code_url=web_url(paper.get("githubRepo")),
        project_url=web_url(paper.get("projectPage")),
        upvotes=_int_or_none(paper.get("upvotes")),
        hf_comments=_int_or_none(item.get("numComments")),
        ai_summary=_text(paper.get("ai_summary")),
        ai_keywords=tuple(_text(k) for k in keywords if isinstance(k, str) and k.strip()),
        thumbnail_url=web_url(item.get("thumbnail")),
        organization=org_name,
        github_stars=_int_or_none(paper.get("githubStars")),
    )


# --- Daily papers RSS, made by feedgen (hf-rss) ---------------------------------------------------

_HF_FIELD_RE = re.compile(r"<b>\s*(?P<label>[A-Za-z ]+):\s*</b>\s*(?P<value>.*?)</p>", re.DOTALL)
_IMG_RE = re.compile(r"<img[^>]*\bsrc=\"(?P<src>[^\"]+)\"", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")


def parse_rss(data: bytes) -> ParsedFeed:
    """Return the entries of Hugging Face's daily papers RSS, all of the channel's day."""
    document = read_feed(data, "Hugging Face daily papers RSS")
    channel = document.feed
    built = channel.get("updated_parsed") or channel.get("published_parsed")
    parsed = ParsedFeed(
        format=HF_RSS,
        title=collapse_whitespace(channel.get("title", "")),
        announced_on=struct_to_datetime(built).date() if built else None,
    )
    parsed.read_entries(document.entries, lambda item: _rss_entry(item, parsed.announced_on))
    return parsed


def _rss_entry(item: Any, daily_on: dt.date | None) -> PaperEntry:
    arxiv_id, version = split_arxiv_id(item.get("id") or item.get("link") or "")
    title = collapse_whitespace(html.unescape(item.get("title", "")))
    if not title:
        raise ValueError(f"{arxiv_id}: entry has no title")
    description = item.get("summary", "") or ""
    fields = {
        m.group("label").strip().lower(): collapse_whitespace(
            html.unescape(_TAG_RE.sub(" ", m.group("value")))
        )
        for m in _HF_FIELD_RE.finditer(description)
    }
    image = _IMG_RE.search(description)
    authors = tuple(name.strip() for name in fields.get("authors", "").split(",") if name.strip())
    return PaperEntry(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=fields.get("summary", ""),
        author_names=authors,
        published_at=struct_to_datetime(item.get("published_parsed")),
        announced_on=daily_on,
        hf_daily_on=daily_on,
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        hf_url=hf_url_for(arxiv_id),
        upvotes=_int_or_none(fields.get("upvotes")),
        thumbnail_url=web_url(html.unescape(image.group("src"))) if image else "",
    )
