"""Feed documents to paper entries: bytes in, dataclasses out, no database.

:func:`parse` reads one document; :func:`detect_format` tells its format. Four
formats are understood, each parsed in the module of its source:

* ``arxiv-rss``: arXiv's per-category RSS 2.0 listing (2024 onward), and
* ``arxiv-api``: arXiv API Atom results, current and legacy (2016) output,
  in :mod:`papers.feeds.arxiv`;
* ``hf-json``: the Hugging Face daily papers JSON API, 2024-2026 schemas, and
* ``hf-rss``: the feedgen-made RSS of Hugging Face daily papers,
  in :mod:`papers.feeds.huggingface`.

What every format produces (:class:`~papers.feeds.entries.PaperEntry` in a
:class:`~papers.feeds.entries.ParsedFeed`), the format names, arXiv ids and
link helpers live in :mod:`papers.feeds.entries`; reading RSS and Atom through
feedparser is shared in :mod:`papers.feeds.feedparsing`.

A document that is not a feed, is malformed, or is an error message dressed as
a feed raises :class:`~papers.feeds.entries.FeedError` with a message meant for
an operator. An entry that cannot be understood is skipped and reported in
``ParsedFeed.skipped`` so the rest of the document still counts.
"""

from __future__ import annotations

from collections.abc import Callable

from papers.feeds import arxiv, huggingface
from papers.feeds.entries import ARXIV_API, ARXIV_RSS, FORMATS, HF_JSON, HF_RSS, FeedError, ParsedFeed

_PARSERS: dict[str, Callable[[bytes], ParsedFeed]] = {
    ARXIV_RSS: arxiv.parse_rss,
    ARXIV_API: arxiv.parse_api,
    HF_JSON: huggingface.parse_json,
    HF_RSS: huggingface.parse_rss,
}


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
    return _PARSERS[fmt](data)
