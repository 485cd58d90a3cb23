"""Choosing and ranking papers for one subscriber: pure functions over loaded data, no database.

A :class:`CandidatePool` holds the papers a batch of digests may draw on and
memoises which papers each rule (a keyword, a topic, an author) matches, so a
rule shared by thousands of subscribers is evaluated once per batch. Selecting
for a :class:`Profile` is then set arithmetic plus scoring over its matches.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from papers.names import name_key

# Relevance weights: what the subscriber named outweighs a broad category.
W_AUTHOR = 6.0
W_KEYWORD = 4.0
W_EXTRA_KEYWORD = 1.0
W_TOPIC_KEYWORD = 2.5
W_CATEGORY = 1.5
W_TRENDING = 2.0
W_FEATURED = 2.5
W_PINNED = 10.0
W_FEEDBACK_CATEGORY = 1.0
W_FEEDBACK_AUTHOR = 1.0
FEEDBACK_CLIP = 2.0


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
class Profile:
    """A subscriber's effective preferences; equal profiles get equal digests from equal pools."""

    topics: tuple[TopicRule, ...] = ()
    keywords: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
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
        self._topics: dict[TopicRule, tuple[list[int], set[int], set[int]]] = {}
        self._by_category: dict[str, set[int]] = defaultdict(set)
        for candidate in self.by_id.values():
            for category in candidate.categories:
                self._by_category[category].add(candidate.id)
        top = max((c.upvotes or 0 for c in self.by_id.values()), default=0)
        self._upvote_scale = math.log1p(top) if top > 0 else 1.0
        self.merit = {
            c.id: W_TRENDING * self.trending(c) + (W_FEATURED if c.featured else 0.0)
            for c in self.by_id.values()
        }
        self.upvotes = {c.id: c.upvotes or 0 for c in self.by_id.values()}
        self._topic_entries: dict[TopicRule, list[tuple[int, float, tuple[tuple[str, str], ...]]]] = {}
        self._topics_part: dict[tuple[tuple[TopicRule, ...], int], TopicsPart] = {}
        self.selections: dict[tuple[Profile, frozenset[int]], list[Pick]] = {}

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

    def category_hits(self, categories: Iterable[str]) -> set[int]:
        hits: set[int] = set()
        for category in categories:
            hits |= self._by_category.get(category, set())
        return hits

    def trending(self, candidate: Candidate) -> float:
        """Return 0..1: this paper's Hugging Face upvotes relative to the pool's most upvoted."""
        return math.log1p(candidate.upvotes or 0) / self._upvote_scale if candidate.upvotes else 0.0

    def ranked(self, key: object, ids: Iterable[int], bonus: dict[int, float] | None = None) -> list[int]:
        """Return ``ids`` best first by merit (plus ``bonus``), memoised under ``key``."""
        order = self._ranked.get(key)
        if order is None:
            extra = bonus or {}
            order = sorted(ids, key=lambda pid: (-(self.merit[pid] + extra.get(pid, 0.0)), pid))
            self._ranked[key] = order
        return order

    def topic_matches(self, topic: TopicRule) -> tuple[list[int], set[int], set[int]]:
        """Return a topic's matches best first, and which matched by category and by keyword (memoised)."""
        cached = self._topics.get(topic)
        if cached is None:
            by_category = self.category_hits(topic.categories)
            by_keyword: set[int] = set()
            for phrase in topic.include:
                by_keyword |= self.phrase_hits(phrase)
            vetoed: set[int] = set()
            for phrase in topic.exclude:
                vetoed |= self.phrase_hits(phrase)
            local = {
                pid: (W_CATEGORY if pid in by_category else 0.0)
                + (W_TOPIC_KEYWORD if pid in by_keyword else 0.0)
                + (W_PINNED if topic.id in self.by_id[pid].pinned_topics else 0.0)
                for pid in (by_category | by_keyword) - vetoed
            }
            cached = (self.ranked(("topic", topic), local, local), by_category, by_keyword)
            self._topics[topic] = cached
        return cached

    def topic_entries(self, topic: TopicRule) -> list[tuple[int, float, tuple[tuple[str, str], ...]]]:
        """Return a topic's matches best first as (paper id, weight, reasons): the same for everyone."""
        entries = self._topic_entries.get(topic)
        if entries is None:
            order, by_category, by_keyword = self.topic_matches(topic)
            entries = []
            for paper_id in order:
                weight = 0.0
                notes: list[tuple[str, str]] = []
                if paper_id in by_keyword:
                    weight += W_TOPIC_KEYWORD
                    notes.append(("topic", topic.name))
                if paper_id in by_category:
                    weight += W_CATEGORY
                    category = next(c for c in self.by_id[paper_id].categories if c in topic.categories)
                    notes.append(("category", category))
                if topic.id in self.by_id[paper_id].pinned_topics:
                    weight += W_PINNED
                    notes.append(("pinned", topic.name))
                entries.append((paper_id, weight, tuple(notes)))
            self._topic_entries[topic] = entries
        return entries

    def topics_part(self, topics: tuple[TopicRule, ...], depth: int) -> TopicsPart:
        """Return ``topics_part(topics, self, ...)`` with nothing vetoed, memoised.

        Many subscribers share a set of topics and differ in keywords: their topics' part is made once.
        """
        key = (topics, depth)
        part = self._topics_part.get(key)
        if part is None:
            if len(self._topics_part) >= self.SELECTIONS_KEPT:
                self._topics_part.clear()
            part = self._topics_part[key] = topics_part(topics, self, vetoed=set(), depth=depth)
        return part

    SELECTIONS_KEPT = 5000

    def selection_for(self, profile: Profile, exclude_ids: frozenset[int]) -> list[Pick]:
        """Return ``select(profile, self, exclude_ids=...)``, kept for the next equal request.

        Equal effective profiles with the same papers already sent get equal
        digests; a worker meets the same popular profiles chunk after chunk. The
        newest SELECTIONS_KEPT are kept.
        """
        key = (profile, exclude_ids)
        picks = self.selections.get(key)
        if picks is None:
            if len(self.selections) >= self.SELECTIONS_KEPT:
                del self.selections[next(iter(self.selections))]
            picks = self.selections[key] = select(profile, self, exclude_ids=exclude_ids)
        return picks

    def effective(self, profile: Profile) -> Profile:
        """Return ``profile`` without the keywords and authors that match nothing in this pool.

        Such rules cannot change a digest, so subscribers who differ only by
        them share one selection.
        """
        keywords = tuple(k for k in profile.keywords if self.phrase_hits(k))
        excluded = tuple(k for k in profile.excluded if self.phrase_hits(k))
        authors = tuple(a for a in profile.authors if self.author_hits(a))
        if (keywords, excluded, authors) == (profile.keywords, profile.excluded, profile.authors):
            return profile
        return replace(profile, keywords=keywords, excluded=excluded, authors=authors)


RULE_DEPTH = 40


@dataclass
class _Reasons:
    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    pinned_in: list[str] = field(default_factory=list)


def _take(order: list[int], exclude: frozenset[int] | set[int], depth: int) -> list[int]:
    taken = []
    for pid in order:
        if pid not in exclude:
            taken.append(pid)
            if len(taken) == depth:
                break
    return taken


# What a profile's topics add to each paper's relevance, and for each topic the papers it brought
# with their reasons (paper id -> (kind, words) notes).
TopicsPart = tuple[dict[int, float], list[dict[int, tuple[tuple[str, str], ...]]]]


def topics_part(
    topics: tuple[TopicRule, ...], pool: CandidatePool, *, vetoed: set[int], depth: int
) -> TopicsPart:
    """Return the topics' part of a selection: each topic's best ``depth`` papers not vetoed."""
    relevance: dict[int, float] = defaultdict(float)
    by_topic: list[dict[int, tuple[tuple[str, str], ...]]] = []
    for topic in topics:
        taken: dict[int, tuple[tuple[str, str], ...]] = {}
        for paper_id, weight, notes in pool.topic_entries(topic):
            if paper_id in vetoed:
                continue
            relevance[paper_id] += weight
            taken[paper_id] = notes
            if len(taken) == depth:
                break
        by_topic.append(taken)
    return dict(relevance), by_topic


def select(
    profile: Profile, pool: CandidatePool, *, exclude_ids: frozenset[int] | set[int] = frozenset()
) -> list[Pick]:
    """Return the papers for ``profile``, best first, at most ``profile.max_papers``.

    ``exclude_ids`` are papers this subscriber was already sent. A paper must
    match a topic, a keyword or a followed author; an excluded keyword vetoes it.
    """
    depth = max(RULE_DEPTH, 3 * profile.max_papers)
    vetoed: set[int] = set(exclude_ids)
    for phrase in profile.excluded:
        vetoed |= pool.phrase_hits(phrase)
    # Each rule's papers are kept to say why a paper was chosen, for the few chosen only.
    if vetoed:
        topics_relevance, by_topic = topics_part(profile.topics, pool, vetoed=vetoed, depth=depth)
    else:  # the common case: the topics' part is shared by everyone with these topics
        topics_relevance, by_topic = pool.topics_part(profile.topics, depth)
    relevance: dict[int, float] = defaultdict(float, topics_relevance)
    followed = _rule_part(
        [(a, ("author", name_key(a)), pool.author_hits(a)) for a in profile.authors],
        pool,
        vetoed=vetoed,
        depth=depth,
        weight=W_AUTHOR,
        relevance=relevance,
    )
    matched = _rule_part(
        [(k, ("phrase", k.casefold()), pool.phrase_hits(k)) for k in profile.keywords],
        pool,
        vetoed=vetoed,
        depth=depth,
        weight=W_KEYWORD,
        relevance=relevance,
    )
    categories, authors = dict(profile.feedback_categories), dict(profile.feedback_authors)
    ranked: list[Ranked] = []
    for paper_id, base in relevance.items():
        if paper_id in vetoed:
            continue
        liked = _liked(pool.by_id[paper_id], categories, authors) if categories or authors else 0.0
        score = base + pool.merit[paper_id] + liked
        ranked.append((-score, -pool.upvotes[paper_id], paper_id, score, liked))
    ranked.sort()
    chosen = _cap_by_category(ranked, pool, limit=profile.max_papers)
    return [
        Pick(
            paper_id=pid,
            position=n,
            score=round(score, 3),
            why=_why_line(pool.by_id[pid], _reasons(pid, followed, matched, by_topic), liked=liked),
        )
        for n, (_, _, pid, score, liked) in enumerate(chosen, 1)
    ]


# A scored paper, sorted best first: (-score, -upvotes, id, score, what feedback added).
Ranked = tuple[float, int, int, float, float]


def _rule_part(
    rules: list[tuple[str, tuple[str, str], frozenset[int]]],
    pool: CandidatePool,
    *,
    vetoed: set[int],
    depth: int,
    weight: float,
    relevance: dict[int, float],
) -> list[tuple[str, set[int]]]:
    """Add what each rule (an author, a keyword) brings to ``relevance``; return the papers each took.

    A rule takes its ``depth`` best papers not vetoed; a paper a second rule of
    the same kind brings again gets only W_EXTRA_KEYWORD more.
    """
    taken_by_rule: list[tuple[str, set[int]]] = []
    seen: set[int] = set()
    for name, key, hits in rules:
        taken = _take(pool.ranked(key, hits), vetoed, depth)
        for paper_id in taken:
            relevance[paper_id] += weight if paper_id not in seen else W_EXTRA_KEYWORD
            seen.add(paper_id)
        taken_by_rule.append((name, set(taken)))
    return taken_by_rule


def _liked(candidate: Candidate, categories: dict[str, float], authors: dict[str, float]) -> float:
    """Return what "more/less like this" adds to a paper: its categories' and authors' weights, clipped."""
    liked = W_FEEDBACK_CATEGORY * _clip(sum(categories.get(c, 0.0) for c in candidate.categories))
    return liked + W_FEEDBACK_AUTHOR * _clip(sum(authors.get(k, 0.0) for k in candidate.author_keys))


def _reasons(
    paper_id: int,
    followed: list[tuple[str, set[int]]],
    matched: list[tuple[str, set[int]]],
    by_topic: list[dict[int, tuple[tuple[str, str], ...]]],
) -> _Reasons:
    """Return the rules that brought ``paper_id``, in the profile's order (a category named once)."""
    why = _Reasons(
        authors=[author for author, ids in followed if paper_id in ids],
        keywords=[keyword for keyword, ids in matched if paper_id in ids],
    )
    for taken in by_topic:
        for kind, words in taken.get(paper_id, ()):
            if kind == "topic":
                why.topics.append(words)
            elif kind == "category":
                if words not in why.categories:
                    why.categories.append(words)
            else:
                why.pinned_in.append(words)
    return why


def _clip(value: float) -> float:
    return max(-FEEDBACK_CLIP, min(FEEDBACK_CLIP, value))


def _cap_by_category(ranked: list[Ranked], pool: CandidatePool, *, limit: int) -> list[Ranked]:
    """Take the best papers, at most ~40% from one primary category while others are waiting."""
    cap = max(2, math.ceil(limit * 0.4))
    taken: list[Ranked] = []
    held_back: list[Ranked] = []
    per_category: dict[str, int] = defaultdict(int)
    for item in ranked:
        if len(taken) == limit:
            break
        category = pool.by_id[item[2]].primary_category
        if per_category[category] >= cap:
            held_back.append(item)
            continue
        per_category[category] += 1
        taken.append(item)
    # A flood only gives way to other papers; with nothing else to send, fill up with it.
    taken.extend(held_back[: limit - len(taken)])
    return sorted(taken)


def _quoted(words: list[str], limit: int = 2) -> str:
    shown = ", ".join(f'"{w}"' for w in words[:limit])
    return shown + (f" +{len(words) - limit}" if len(words) > limit else "")


def _why_line(candidate: Candidate, why: _Reasons, *, liked: float) -> str:
    """Return the true reason a paper was chosen, from the rules that fired."""
    parts: list[str] = []
    if why.authors:
        parts.append("you follow " + " and ".join(why.authors[:2]))
    if why.keywords:
        parts.append("matches " + _quoted(why.keywords))
    if why.categories:
        parts.append(" ".join(why.categories[:2]))
    if why.topics:
        parts.append("in " + " and ".join(why.topics[:2]))
    if why.pinned_in:
        parts.append("pinned by the editors in " + why.pinned_in[0])
    elif candidate.featured:
        parts.append("featured by the editors")
    if liked >= W_FEEDBACK_CATEGORY:
        parts.append("like papers you wanted more of")
    if candidate.upvotes:
        parts.append(f"{candidate.upvotes} upvote{'s' if candidate.upvotes != 1 else ''} on Hugging Face")
    return " · ".join(parts)[:300]
