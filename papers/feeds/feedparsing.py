"""Reading RSS and Atom documents with feedparser, shared by the arXiv and Hugging Face parsers.

Malformed XML, a garbled encoding and a document that is no feed all become a
:class:`~papers.feeds.entries.FeedError` an operator can act on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax import SAXException

import feedparser

from papers.feeds.entries import FeedError


def read_feed(data: bytes, expected: str) -> Any:
    """Return feedparser's reading of ``data``, or raise FeedError; ``expected`` names the format."""
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


def struct_to_datetime(value: Any) -> dt.datetime | None:
    """Return a UTC datetime from one of feedparser's ``*_parsed`` time tuples, or None."""
    if not value:
        return None
    return dt.datetime(*value[:6], tzinfo=dt.UTC)
