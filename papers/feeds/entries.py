"""What a parsed feed is made of: formats, entries, arXiv ids and safe links; no parsing.

Every format's parser returns a :class:`ParsedFeed` of :class:`PaperEntry`; the
catalogue's models and pages reuse the id pattern and the link helpers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

ARXIV_RSS = "arxiv-rss"
ARXIV_API = "arxiv-api"
HF_JSON = "hf-json"
HF_RSS = "hf-rss"
FORMATS = (ARXIV_RSS, ARXIV_API, HF_JSON, HF_RSS)

# Links end up in href attributes of emails and pages: only these schemes are kept.
WEB_URL = URLValidator(schemes=["http", "https"])
URL_MAX_LENGTH = 500  # the catalogue's URL columns


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

    def read_entries(self, items: Iterable[Any], entry: Callable[[Any], PaperEntry]) -> None:
        """Add ``entry(item)`` for each item; one it refuses (ValueError) is skipped, with why."""
        for position, item in enumerate(items):
            try:
                self.entries.append(entry(item))
            except ValueError as error:
                self.skipped.append(SkippedEntry(position, str(error)))


# --- arXiv identifiers ------------------------------------------------------------------

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
# A version-free id as the site's URLs take it: 2611.18230, or an old-style astro-ph/0601001.
ARXIV_ID_PATTERN = rf"{_NEW_ID}|{_OLD_ID}"
_ID_RE = re.compile(rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?(?![\d])")


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
