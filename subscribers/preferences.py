"""What a subscriber asks to receive: parsing and normalising what they type, and the record of it.

The parsers are pure functions; ``Preferences`` reads a subscriber's topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from papers.names import collapse_whitespace
from subscribers.models import ConsentRecord, Subscriber

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


@dataclass
class Preferences:
    """What a subscriber asked to receive."""

    topics: list[str] = field(default_factory=list)  # topic slugs
    keywords: list[str] = field(default_factory=list)
    excluded_keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    cadence: str = Subscriber.Cadence.DAILY
    timezone: str = "UTC"
    send_hour: int = 7
    send_weekday: int = Subscriber.Weekday.MONDAY
    max_papers: int | None = None  # None: not asked, so what is stored stays
    categories: list[str] = field(default_factory=list)  # arXiv categories followed directly
    include_crosslists: bool = True

    def as_dict(self) -> dict[str, Any]:
        """Return the preferences that were chosen (None is left out), as JSON-ready data."""
        # Strings, numbers and lists of strings: copying the lists copies it all (asdict() walks each value).
        return {
            name: list(value) if isinstance(value, list) else value
            for name, value in vars(self).items()
            if value is not None
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preferences:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    @classmethod
    def requested(cls, subscriber: Subscriber, consent: ConsentRecord) -> Preferences:
        """Return what confirming ``consent`` gives: the preferences its form asked, the others kept."""
        return cls.from_dict({**cls.of(subscriber).as_dict(), **consent.requested_preferences})

    @classmethod
    def of(cls, subscriber: Subscriber) -> Preferences:
        return cls(
            topics=sorted(topic.slug for topic in subscriber.topics.all()),
            keywords=list(subscriber.keywords),
            excluded_keywords=list(subscriber.excluded_keywords),
            authors=list(subscriber.authors),
            cadence=subscriber.cadence,
            timezone=subscriber.timezone,
            send_hour=subscriber.send_hour,
            send_weekday=subscriber.send_weekday,
            max_papers=subscriber.max_papers,
            categories=list(subscriber.categories),
            include_crosslists=subscriber.include_crosslists,
        )


# Where a sign-up's extras wait, with its other choices, in its consent record's requested preferences.
SEED_PAPERS = "seed_papers"
SAVED_SEARCHES = "saved_searches"


@dataclass
class SignupExtras:
    """What a sign-up adds besides preferences, applied when it is confirmed.

    Stored in the sign-up's requested preferences under their own keys:
    ``seed_papers`` (arXiv ids of catalogue papers the reader likes, stored as
    seed likes) and ``saved_searches`` (``{"query": ..., "category": ...}``,
    mailed as new matches arrive).
    """

    seed_papers: list[str] = field(default_factory=list)
    saved_searches: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.seed_papers:
            data[SEED_PAPERS] = list(self.seed_papers[: settings.SEED_MAX_PAPERS])
        if self.saved_searches:
            data[SAVED_SEARCHES] = [dict(search) for search in self.saved_searches]
        return data

    @classmethod
    def requested(cls, consent: ConsentRecord) -> SignupExtras:
        """Return the extras a sign-up asked for; anything malformed in the record is left out."""
        data = consent.requested_preferences if isinstance(consent.requested_preferences, dict) else {}
        seeds = [s for s in data.get(SEED_PAPERS) or [] if isinstance(s, str)][: settings.SEED_MAX_PAPERS]
        searches = [
            {"query": str(s["query"]), "category": str(s.get("category", ""))}
            for s in data.get(SAVED_SEARCHES) or []
            if isinstance(s, dict) and isinstance(s.get("query"), str) and s["query"].strip()
        ]
        return cls(seeds, searches)
