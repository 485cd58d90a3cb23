"""Feed documents to paper entries: bytes in, dataclasses out, no database.

Four formats are understood and told apart by :func:`detect_format`:

* ``arxiv-rss``: arXiv's per-category RSS 2.0 listing (2024 onward);
* ``arxiv-api``: arXiv API Atom results, current and legacy (2016) output;
* ``hf-json``: the Hugging Face daily papers JSON API, 2024-2026 schemas;
* ``hf-rss``: the feedgen-made RSS of Hugging Face daily papers.

A document that is not a feed, is malformed, or is an error message dressed as
a feed raises :class:`FeedError` with a message meant for an operator. An entry
that cannot be understood is skipped and reported in :attr:`ParsedFeed.skipped`
so the rest of the document still counts.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax import SAXException

import feedparser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from papers.names import collapse_whitespace, split_authors, tex_to_unicode

ARXIV_RSS = "arxiv-rss"
ARXIV_API = "arxiv-api"
HF_JSON = "hf-json"
HF_RSS = "hf-rss"
FORMATS = (ARXIV_RSS, ARXIV_API, HF_JSON, HF_RSS)

# Links end up in href attributes of emails and pages: only these schemes are kept.
WEB_URL = URLValidator(schemes=["http", "https"])
URL_MAX_LENGTH = 500  # the catalogue's URL columns

# Announce types in arXiv's RSS; only the first two put a paper in the day's news.
NEW_ANNOUNCE_TYPES = frozenset({"new", "cross"})
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})


class FeedError(Exception):
    """The document is not a usable feed; the message says why, for an operator.

    ``reason`` says why without quoting the document; the message adds the
    document's own words (``detail``, such as an API's error text) where it has any.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PaperEntry:
    """One paper as one source describes it. Empty strings and None mean "not said".

    The URL fields hold http(s) URLs only: a link a feed supplies goes through
    :func:`web_url`, and the ones built here come from a validated arXiv id.
    """

    arxiv_id: str
    version: int | None = None
    title: str = ""
    abstract: str = ""
    author_names: tuple[str, ...] = ()
    primary_category: str = ""
    categories: tuple[str, ...] = ()
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    announce_type: str = ""
    announced_on: dt.date | None = None
    abs_url: str = ""
    pdf_url: str = ""
    hf_url: str = ""
    code_url: str = ""
    project_url: str = ""
    upvotes: int | None = None
    hf_comments: int | None = None
    ai_summary: str = ""
    ai_keywords: tuple[str, ...] = ()
    thumbnail_url: str = ""
    organization: str = ""
    github_stars: int | None = None
    hf_daily_on: dt.date | None = None
    doi: str = ""
    journal_ref: str = ""
    comment: str = ""


@dataclass(frozen=True)
class SkippedEntry:
    """An entry left out of a document, with its position and the reason."""

    position: int
    reason: str


@dataclass
class ParsedFeed:
    """The entries of one document, what was skipped, and what the document says of itself."""

    format: str
    title: str = ""
    announced_on: dt.date | None = None
    entries: list[PaperEntry] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)
    total_results: int | None = None


# --- arXiv identifiers ------------------------------------------------------------------

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
# A version-free id as the site's URLs take it: 2611.18230, or an old-style astro-ph/0601001.
ARXIV_ID_PATTERN = rf"{_NEW_ID}|{_OLD_ID}"
_ID_RE = re.compile(rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?(?![\d])")
_ANNOUNCE_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)(?:v(?P<version>\d+))?\s+Announce Type:\s*(?P<type>\S+)\s*"
    r"(?:\n|\s)\s*Abstract:\s*(?P<abstract>.*)$",
    re.DOTALL,
)


def split_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return ``(id, version)`` from an arXiv id, abs/pdf URL or OAI identifier.

    ``split_arxiv_id("http://arxiv.org/abs/2403.15527v2") == ("2403.15527", 2)``;
    raises ValueError when ``text`` holds no arXiv identifier.
    """
    candidate = text.strip()
    for prefix in ("oai:arXiv.org:", "arXiv:", "arxiv:"):
        if candidate.startswith(prefix):
            candidate = candidate[len(prefix) :]
    match = _ID_RE.search(candidate)
    if not match:
        raise ValueError(f"no arXiv identifier in {text!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def web_url(value: Any) -> str:
    """Return ``value`` stripped if it is an http(s) URL that fits the catalogue, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > URL_MAX_LENGTH:
        return ""
    try:
        WEB_URL(url)
    except ValidationError:
        return ""
    return url


def abs_url_for(arxiv_id: str) -> str:
    """Return the canonical abstract page URL of a paper."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url_for(arxiv_id: str) -> str:
    """Return the canonical PDF URL of a paper (latest version)."""
    return f"https://arxiv.org/pdf/{arxiv_id}"


def hf_url_for(arxiv_id: str) -> str:
    """Return the Hugging Face paper page URL."""
    return f"https://huggingface.co/papers/{arxiv_id}"


# --- Detection ---------------------------------------------------------------------------


def detect_format(data: bytes) -> str:
    """Return which of :data:`FORMATS` ``data`` is, or raise FeedError saying what it looks like."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FeedError("the document is empty")
    if head[:1] in (b"[", b"{"):
        return HF_JSON
    lowered = head.lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        b"<html" in lowered and b"<rss" not in lowered and b"<feed" not in lowered
    ):
        raise FeedError("expected a feed but got an HTML page (an error or login page?)")
    if b"<feed" in lowered:
        return ARXIV_API
    if b"<rss" in lowered or b"<rdf:rdf" in lowered:
        if b"arxiv:announce_type" in lowered or b"arxiv.org" in lowered:
            if b"huggingface" in lowered or b"hugging face" in lowered:
                return HF_RSS
            return ARXIV_RSS
        if b"hugging face" in lowered or b"huggingface" in lowered:
            return HF_RSS
        raise FeedError("an RSS document that is neither an arXiv nor a Hugging Face feed")
    raise FeedError("not a feed: the document is neither XML (RSS/Atom) nor JSON")


def parse(data: bytes, fmt: str | None = None) -> ParsedFeed:
    """Return the entries of a feed document; ``fmt`` is detected when not given."""
    fmt = fmt or detect_format(data)
    if fmt not in FORMATS:
        raise FeedError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    parser = {
        ARXIV_RSS: _parse_arxiv_rss,
        ARXIV_API: _parse_arxiv_api,
        HF_JSON: _parse_hf_json,
        HF_RSS: _parse_hf_rss,
    }[fmt]
    return parser(data)


# --- XML helpers -----------------------------------------------------------------------------


def _feedparser(data: bytes, expected: str) -> Any:
    try:
        document = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    except (UnicodeError, ValueError, LookupError) as error:
        # feedparser reads the XML declaration's encoding itself and raises on a garbled one.
        raise FeedError("unreadable encoding declaration", f"{type(error).__name__}: {error}") from None
    exception = document.get("bozo_exception")
    if document.get("bozo") and isinstance(exception, SAXException):
        raise FeedError(f"malformed XML: {_describe_sax_error(exception)}")
    version = document.get("version") or ""
    if not version:
        raise FeedError(f"not a feed: expected {expected}, and the document parses as no feed")
    return document


def _describe_sax_error(exception: SAXException) -> str:
    message = exception.getMessage() if hasattr(exception, "getMessage") else str(exception)
    line = getattr(exception, "getLineNumber", lambda: None)()
    return f"{message} (line {line})" if line else message


def _struct_to_datetime(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime(*value[:6], tzinfo=dt.UTC)


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


# --- arXiv RSS ---------------------------------------------------------------------------------


def _parse_arxiv_rss(data: bytes) -> ParsedFeed:
    document = _feedparser(data, "arXiv RSS")
    channel = document.feed
    title = collapse_whitespace(channel.get("title", ""))
    if title.startswith("Feed error"):
        detail = collapse_whitespace(html.unescape(channel.get("description", "")))
        raise FeedError("arXiv answered with an error feed", f"{title}. {detail}".strip())
    parsed = ParsedFeed(format=ARXIV_RSS, title=title, announced_on=_rfc822_date(channel.get("published")))
    for position, item in enumerate(document.entries):
        try:
            parsed.entries.append(_arxiv_rss_entry(item, parsed.announced_on))
        except ValueError as error:
            parsed.skipped.append(SkippedEntry(position, str(error)))
    return parsed


def _arxiv_rss_entry(item: Any, feed_date: dt.date | None) -> PaperEntry:
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


# --- arXiv API (Atom) ----------------------------------------------------------------------------


def _parse_arxiv_api(data: bytes) -> ParsedFeed:
    document = _feedparser(data, "arXiv API Atom")
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
    for position, entry in enumerate(document.entries):
        try:
            parsed.entries.append(_arxiv_api_entry(entry))
        except ValueError as error:
            parsed.skipped.append(SkippedEntry(position, str(error)))
    return parsed


def _arxiv_api_entry(entry: Any) -> PaperEntry:
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
        published_at=_struct_to_datetime(entry.get("published_parsed")),
        updated_at=_struct_to_datetime(entry.get("updated_parsed")),
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url or pdf_url_for(arxiv_id),
        doi=collapse_whitespace(entry.get("arxiv_doi", "") or ""),
        journal_ref=collapse_whitespace(entry.get("arxiv_journal_ref", "") or ""),
        comment=collapse_whitespace(entry.get("arxiv_comment", "") or ""),
    )


# --- Hugging Face daily papers JSON ----------------------------------------------------------------


def _parse_hf_json(data: bytes) -> ParsedFeed:
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
            entry = _hf_json_entry(item)
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


def _hf_json_entry(item: Any) -> PaperEntry:
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


# --- Hugging Face daily papers RSS (feedgen) -------------------------------------------------------

_HF_FIELD_RE = re.compile(r"<b>\s*(?P<label>[A-Za-z ]+):\s*</b>\s*(?P<value>.*?)</p>", re.DOTALL)
_IMG_RE = re.compile(r"<img[^>]*\bsrc=\"(?P<src>[^\"]+)\"", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")


def _parse_hf_rss(data: bytes) -> ParsedFeed:
    document = _feedparser(data, "Hugging Face daily papers RSS")
    channel = document.feed
    built = channel.get("updated_parsed") or channel.get("published_parsed")
    parsed = ParsedFeed(
        format=HF_RSS,
        title=collapse_whitespace(channel.get("title", "")),
        announced_on=_struct_to_datetime(built).date() if built else None,
    )
    for position, item in enumerate(document.entries):
        try:
            parsed.entries.append(_hf_rss_entry(item, parsed.announced_on))
        except ValueError as error:
            parsed.skipped.append(SkippedEntry(position, str(error)))
    return parsed


def _hf_rss_entry(item: Any, daily_on: dt.date | None) -> PaperEntry:
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
        published_at=_struct_to_datetime(item.get("published_parsed")),
        announced_on=daily_on,
        hf_daily_on=daily_on,
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        hf_url=hf_url_for(arxiv_id),
        upvotes=_int_or_none(fields.get("upvotes")),
        thumbnail_url=web_url(html.unescape(image.group("src"))) if image else "",
    )
