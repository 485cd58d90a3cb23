"""Parsing and normalising what subscribers type: keywords, exclusions and author names.

Pure functions, no database.
"""

from __future__ import annotations

import re

from papers.names import collapse_whitespace

MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 60
MAX_AUTHORS = 20
MAX_AUTHOR_LENGTH = 100
# Control characters (CR and LF included) never belong in a preference.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class PreferenceError(ValueError):
    """A preference that cannot be accepted; the message is shown to the person."""


def _items(text: str) -> list[str]:
    if CONTROL_RE.search(text):
        raise PreferenceError("Line breaks and control characters are not allowed.")
    return [item for item in (collapse_whitespace(part) for part in text.split(",")) if item]


def parse_keywords(text: str) -> tuple[list[str], list[str]]:
    """Return (included, excluded) keywords from comma-separated text.

    A leading ``-`` excludes: ``"reasoning, -robotics, \\"large language model\\""``
    gives ``(["reasoning", "large language model"], ["robotics"])``. Quotes only
    mark a phrase; every entry is matched as a whole phrase anyway.
    """
    included: list[str] = []
    excluded: list[str] = []
    for item in _items(text):
        target = included
        if item.startswith("-"):
            target = excluded
            item = item[1:].strip()
        item = item.strip("\"'\u201c\u201d\u2018\u2019 ").strip()  # straight and curly quotes
        if not item:
            continue
        if len(item) > MAX_KEYWORD_LENGTH:
            raise PreferenceError(
                f"“{item[:20]}…” is too long: keep each keyword under {MAX_KEYWORD_LENGTH} characters."
            )
        if item.casefold() not in {k.casefold() for k in target}:
            target.append(item)
    if len(included) + len(excluded) > MAX_KEYWORDS:
        raise PreferenceError(f"Up to {MAX_KEYWORDS} keywords, please.")
    return included, excluded


def parse_authors(text: str) -> list[str]:
    """Return the author names from comma-separated text, without duplicates."""
    authors: list[str] = []
    for item in _items(text):
        if len(item) > MAX_AUTHOR_LENGTH:
            raise PreferenceError(f"“{item[:20]}…” is too long for a name.")
        if item.casefold() not in {a.casefold() for a in authors}:
            authors.append(item)
    if len(authors) > MAX_AUTHORS:
        raise PreferenceError(f"Up to {MAX_AUTHORS} authors, please.")
    return authors


def keywords_text(included: list[str], excluded: list[str]) -> str:
    """Return keywords as a person would type them (the inverse of parse_keywords)."""
    return ", ".join([*included, *(f"-{word}" for word in excluded)])
