"""Candidates: papers and preferences as the ranker sees them, and which rule matches which paper.

A :class:`CandidatePool` holds the papers a batch of digests may draw on and
memoises which papers each rule (a keyword, a topic, an author, a saved search,
a followed category) matches, so a
rule shared by thousands of subscribers is evaluated once per batch. Pure: no
database. Ranking for a profile is :mod:`newsletter.selection`'s; a reader's
learned model and the paper vectors it scores are :mod:`newsletter.space`'s.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from papers.names import name_key
from papers.search import ParsedQuery, document_stems, matches, parse_query
from papers.taxonomy import category_names

# Relevance weights: what the subscriber named outweighs a broad category.
W_AUTHOR = 6.0
W_KEYWORD = 4.0
W_EXTRA_KEYWORD = 1.0
W_TOPIC_KEYWORD = 2.5
W_CATEGORY = 1.5
W_SEARCH = 4.0  # a saved search is words the reader chose, like a keyword
W_FOLLOWED_CATEGORY = 2.0  # a category chosen by name, more than one a topic brings along
W_TRENDING = 2.0
W_FEATURED = 2.5
W_PINNED = 10.0
W_FEEDBACK_CATEGORY = 1.0
W_FEEDBACK_AUTHOR = 1.0
FEEDBACK_CLIP = 2.0
# Learned ranking: a reader's score counts W_LEARNED per standard deviation above the pool's mean;
# the rules that let a paper in still add their weights, scaled by RULE_SHARE (pins count in full).
W_LEARNED = 2.0
RULE_SHARE = 0.3
# A paper outside the rules is offered as a discovery only this far above the pool's mean.
DISCOVERY_Z = 2.5
# What the reader's model vouches for: a paper this far above the pool's mean may fill the slots a
# digest's rules leave empty (as a discovery), and is never held back by the one-category cap.
VOUCHED_Z = 1.0
# A why-line names a liked paper only when it is at least this similar (cosine) to the chosen one.
LIKE_SIMILARITY = 0.3


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Return a case-insensitive pattern matching ``phrase`` on word boundaries, any spacing."""
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"[\s\-]+".join(words) + r"(?!\w)", re.IGNORECASE)


# Python's case-insensitive matching also equates four non-ASCII letters with ASCII ones
# (capital I with a dot and dotless i with i, long s with s, the Kelvin sign with k). Folded
# to those, lower-cased text contains every ASCII word that phrase_pattern finds in it: a
# cheap test to run first.
_ASCII_TWINS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def folded(text: str) -> str:
    """Return ``text`` lower-cased, with the non-ASCII twins of ASCII letters made ASCII."""
    return text.translate(_ASCII_TWINS).lower()


@dataclass(frozen=True)
class TopicRule:
    """A topic as the ranker sees it."""

    id: int
    name: str
    categories: frozenset[str]
    include: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class SearchRule:
    """A saved search as the ranker sees it: the query as typed (parsed once) and its category filter."""

    query: str
    category: str = ""
    # Equal queries parse equally: the parse is not part of the rule's identity.
    parsed: ParsedQuery = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.parsed is None:
            object.__setattr__(self, "parsed", parse_query(self.query))


@dataclass(frozen=True)
class Profile:
    """A subscriber's effective preferences; equal profiles get equal digests from equal pools."""

    topics: tuple[TopicRule, ...] = ()
    keywords: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    searches: tuple[SearchRule, ...] = ()
    categories: tuple[str, ...] = ()  # arXiv categories followed directly
    include_crosslists: bool = False  # whether a followed category counts when it is not the primary one
    max_papers: int = 10
    # (category or author key, weight) learned from "more/less like this".
    feedback_categories: tuple[tuple[str, float], ...] = ()
    feedback_authors: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A paper as the ranker sees it."""

    id: int
    title: str
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    author_names: tuple[str, ...]
    upvotes: int | None = None
    featured: bool = False
    pinned_topics: frozenset[int] = frozenset()
    author_keys: frozenset[str] = field(default=frozenset(), compare=False)
    # Title and abstract, as phrases are matched against them (and folded, for the quick test).
    text: str = field(init=False, compare=False, repr=False)
    folded_text: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.author_keys and self.author_names:
            object.__setattr__(self, "author_keys", frozenset(name_key(n) for n in self.author_names))
        object.__setattr__(self, "text", f"{self.title}\n{self.abstract}")
        object.__setattr__(self, "folded_text", folded(self.text))


# A paper a topic brings: (paper id, what it adds to the relevance, (kind, words) reasons).
TopicEntry = tuple[int, float, tuple[tuple[str, str], ...]]


# A scored paper, sorted best first: (-score, -upvotes, id, score, what feedback added).
Ranked = tuple[float, int, int, float, float]


@dataclass
class Reasons:
    """The rules that brought a paper into a digest, in the profile's order."""

    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    pinned_in: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    def places(self) -> list[str]:
        """Return the topics and followed categories (by their human names) that brought the paper."""
        names = category_names()
        found = list(self.topics)
        for code in self.categories:
            name = names.get(code, f"arXiv category {code}")
            if name not in found:
                found.append(name)
        return found


def searched(queries: list[str], limit: int = 2) -> str:
    """Return the why-line's words for the saved searches a paper matches."""
    shown = " and ".join(f"“{q}”" for q in queries[:limit])
    more = f" +{len(queries) - limit}" if len(queries) > limit else ""
    return f"matches your search{'es' if len(queries) > 1 else ''} {shown}{more}"


def quoted(words: list[str], limit: int = 2) -> str:
    """Return up to ``limit`` words in quotes, and how many more there are."""
    shown = ", ".join(f'"{w}"' for w in words[:limit])
    return shown + (f" +{len(words) - limit}" if len(words) > limit else "")


def trending(upvotes: int) -> str:
    """Return the why-line's words for a paper's Hugging Face upvotes."""
    return f"trending: {upvotes} upvote{'s' if upvotes != 1 else ''}"


@dataclass(frozen=True)
class Pick:
    """A chosen paper: its rank, score and the true one-line reason it was chosen."""

    paper_id: int
    position: int
    score: float
    why: str


class CandidatePool:
    """The papers a batch of digests may draw on, with per-rule matches memoised.

    Each rule's matches are kept best first (by the paper's own merit:
    upvotes, featured), and a profile considers at most RULE_DEPTH of them per
    rule: a paper the rule ranks lower cannot reach the digest through that
    rule alone.
    """

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.by_id = {candidate.id: candidate for candidate in candidates}
        self._phrase_hits: dict[str, frozenset[int]] = {}
        self._author_hits: dict[str, frozenset[int]] = {}
        self._by_author: dict[str, set[int]] | None = None  # author key -> papers, made when first asked
        self._ranked: dict[object, list[int]] = {}
        self._by_category: dict[str, set[int]] = defaultdict(set)
        self._by_primary: dict[str, set[int]] = defaultdict(set)
        for candidate in self.by_id.values():
            self._by_primary[candidate.primary_category].add(candidate.id)
            for category in candidate.categories:
                self._by_category[category].add(candidate.id)
        self._search_hits: dict[tuple[str, str], frozenset[int]] = {}
        self._stems: dict[int, list[str]] | None = None  # paper id -> what a search reads, when first asked
        top = max((c.upvotes or 0 for c in self.by_id.values()), default=0)
        self._upvote_scale = math.log1p(top) if top > 0 else 1.0
        self.merit = {
            c.id: W_TRENDING * self.trending(c) + (W_FEATURED if c.featured else 0.0)
            for c in self.by_id.values()
        }
        self.upvotes = {c.id: c.upvotes or 0 for c in self.by_id.values()}
        self.pinned = frozenset(c.id for c in self.by_id.values() if c.pinned_topics)
        self._topic_entries: dict[TopicRule, list[TopicEntry]] = {}
        # Kept by newsletter.selection: the selections made from this pool, by (profile, already sent),
        # the topics' part of selections, by (topics, depth), and what a profile's rules let in.
        self.selections: dict[tuple[Profile, frozenset[int]], list[Pick]] = {}
        self.topics_parts: dict[tuple[tuple[TopicRule, ...], int], object] = {}
        self.rules_parts: dict[tuple[Profile, frozenset[int]], object] = {}

    def phrase_hits(self, phrase: str) -> frozenset[int]:
        """Return the ids of papers whose title or abstract contains ``phrase``."""
        key = phrase.casefold()
        hits = self._phrase_hits.get(key)
        if hits is None:
            words = key.split()
            pattern = phrase_pattern(" ".join(words))
            # Only papers containing the phrase's longest ASCII word can match: test that first.
            needle = max((w for w in words if w.isascii()), key=len, default="")
            hits = frozenset(
                c.id for c in self.by_id.values() if needle in c.folded_text and pattern.search(c.text)
            )
            self._phrase_hits[key] = hits
        return hits

    def author_hits(self, author: str) -> frozenset[int]:
        """Return the ids of papers with ``author`` among their authors (accents and case ignored)."""
        key = name_key(author)
        hits = self._author_hits.get(key)
        if hits is None:
            if self._by_author is None:
                self._by_author = defaultdict(set)
                for candidate in self.by_id.values():
                    for author_key in candidate.author_keys:
                        self._by_author[author_key].add(candidate.id)
            hits = frozenset(self._by_author.get(key, ()))
            self._author_hits[key] = hits
        return hits

    def search_hits(self, rule: SearchRule) -> frozenset[int]:
        """Return the ids of papers the site's search finds for this saved search (papers.search)."""
        key = (rule.query, rule.category)
        hits = self._search_hits.get(key)
        if hits is None:
            if self._stems is None:
                self._stems = {c.id: document_stems(c) for c in self.by_id.values()}
            ids = self._by_category.get(rule.category, set()) if rule.category else self.by_id.keys()
            hits = frozenset(pid for pid in ids if matches(rule.parsed, self._stems[pid]))
            self._search_hits[key] = hits
        return hits

    def followed_hits(self, category: str, crosslists: bool) -> frozenset[int]:
        """Return the ids of papers whose primary category (or, with ``crosslists``, any) is ``category``."""
        return frozenset((self._by_category if crosslists else self._by_primary).get(category, ()))

    def category_hits(self, categories: Iterable[str]) -> set[int]:
        hits: set[int] = set()
        for category in categories:
            hits |= self._by_category.get(category, set())
        return hits

    def trending(self, candidate: Candidate) -> float:
        """Return 0..1: this paper's Hugging Face upvotes relative to the pool's most upvoted."""
        return math.log1p(candidate.upvotes or 0) / self._upvote_scale if candidate.upvotes else 0.0

    def ranked(self, key: object, ids: Iterable[int]) -> list[int]:
        """Return ``ids`` best first by merit, memoised under ``key``."""
        order = self._ranked.get(key)
        if order is None:
            order = self._ranked[key] = sorted(ids, key=lambda pid: (-self.merit[pid], pid))
        return order

    def topic_entries(self, topic: TopicRule) -> list[TopicEntry]:
        """Return a topic's matches best first as (paper id, weight, reasons): the same for everyone.

        A paper matches by category or by keyword, and an excluded keyword of
        the topic vetoes it; an editor's pin in the topic adds W_PINNED.
        """
        entries = self._topic_entries.get(topic)
        if entries is None:
            by_category = self.category_hits(topic.categories)
            by_keyword: set[int] = set()
            for phrase in topic.include:
                by_keyword |= self.phrase_hits(phrase)
            vetoed: set[int] = set()
            for phrase in topic.exclude:
                vetoed |= self.phrase_hits(phrase)
            entries = []
            for paper_id in (by_category | by_keyword) - vetoed:
                weight = 0.0
                notes: list[tuple[str, str]] = []
                if paper_id in by_keyword:
                    weight += W_TOPIC_KEYWORD
                    notes.append(("topic", topic.name))
                if paper_id in by_category:
                    weight += W_CATEGORY
                    if paper_id not in by_keyword:  # the reader knows the topic's name, not its codes
                        notes.append(("topic", topic.name))
                if topic.id in self.by_id[paper_id].pinned_topics:
                    weight += W_PINNED
                    notes.append(("pinned", topic.name))
                entries.append((paper_id, weight, tuple(notes)))
            entries.sort(key=lambda entry: (-(self.merit[entry[0]] + entry[1]), entry[0]))
            self._topic_entries[topic] = entries
        return entries

    def effective(self, profile: Profile) -> Profile:
        """Return ``profile`` without the keywords, authors, searches and categories that match nothing here.

        Such rules cannot change a digest, so subscribers who differ only by
        them share one selection.
        """
        crosslists = profile.include_crosslists
        found = {
            "keywords": tuple(k for k in profile.keywords if self.phrase_hits(k)),
            "excluded": tuple(k for k in profile.excluded if self.phrase_hits(k)),
            "authors": tuple(a for a in profile.authors if self.author_hits(a)),
            "searches": tuple(s for s in profile.searches if self.search_hits(s)),
            "categories": tuple(c for c in profile.categories if self.followed_hits(c, crosslists)),
        }
        found["include_crosslists"] = crosslists and bool(found["categories"])
        if all(getattr(profile, name) == rules for name, rules in found.items()):
            return profile
        return replace(profile, **found)
