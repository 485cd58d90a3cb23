"""Selection: the papers of one digest, ranked, each with the true reason it was chosen.

Pure functions over a :class:`~newsletter.candidates.CandidatePool`, no
database: set arithmetic over each rule's memoised matches, then scoring.
"""

from __future__ import annotations

import math
from collections import defaultdict

from newsletter import learned
from newsletter.candidates import (
    FEEDBACK_CLIP,
    VOUCHED_Z,
    W_AUTHOR,
    W_EXTRA_KEYWORD,
    W_FEEDBACK_AUTHOR,
    W_FEEDBACK_CATEGORY,
    W_FOLLOWED_CATEGORY,
    W_KEYWORD,
    W_LEARNED,
    W_SEARCH,
    Candidate,
    CandidatePool,
    Pick,
    Profile,
    Ranked,
    Reasons,
    TopicRule,
)
from newsletter.space import Reader, Space
from papers.names import name_key

SELECTIONS_KEPT = 5000  # per pool


def selection_for(
    pool: CandidatePool,
    profile: Profile,
    exclude_ids: frozenset[int],
    *,
    reader: Reader | None = None,
    space: Space | None = None,
) -> list[Pick]:
    """Return ``select(profile, pool, exclude_ids=...)``, kept in the pool for the next equal request.

    Equal effective profiles with the same papers already sent get equal
    digests; a worker meets the same popular profiles chunk after chunk. The
    newest SELECTIONS_KEPT are kept. A reader's own model makes their digest
    their own: it is not kept.
    """
    if reader is not None:
        return select(profile, pool, exclude_ids=exclude_ids, reader=reader, space=space)
    key = (profile, exclude_ids)
    picks = pool.selections.get(key)
    if picks is None:
        if len(pool.selections) >= SELECTIONS_KEPT:
            del pool.selections[next(iter(pool.selections))]
        picks = pool.selections[key] = select(profile, pool, exclude_ids=exclude_ids)
    return picks


def shared_topics_part(pool: CandidatePool, topics: tuple[TopicRule, ...], depth: int) -> TopicsPart:
    """Return ``topics_part(topics, pool, ...)`` with nothing vetoed, kept in the pool.

    Many subscribers share a set of topics and differ in keywords: their topics' part is made once.
    """
    key = (topics, depth)
    part = pool.topics_parts.get(key)
    if part is None:
        if len(pool.topics_parts) >= SELECTIONS_KEPT:
            pool.topics_parts.clear()
        part = pool.topics_parts[key] = topics_part(topics, pool, vetoed=set(), depth=depth)
    return part  # type: ignore[return-value]


RULE_DEPTH = 40


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
    profile: Profile,
    pool: CandidatePool,
    *,
    exclude_ids: frozenset[int] | set[int] = frozenset(),
    reader: Reader | None = None,
    space: Space | None = None,
) -> list[Pick]:
    """Return the papers for ``profile``, best first, at most ``profile.max_papers``.

    ``exclude_ids`` are papers this subscriber was already sent. A paper must
    match a topic, a keyword or a followed author; an excluded keyword vetoes
    it. With a ``reader`` model (and the ``space`` of vectors it reads), its
    score orders what the rules let in, and a few papers outside the rules
    that it scores far above the rest come in as discoveries.
    """
    part = _rules_part(profile, pool, frozenset(exclude_ids))
    relevance, vetoed = part[0], part[1]
    if reader is not None and space is not None and len(space.ids):
        ranked, discoveries = learned.ranked(profile, pool, relevance, vetoed, reader, space)
        vouched = W_LEARNED * VOUCHED_Z
    else:
        ranked, discoveries = _rules_ranked(profile, pool, relevance, vetoed), set()
        vouched = math.inf
    ranked.sort()
    chosen = _cap_by_category(ranked, pool, limit=profile.max_papers, vouched=vouched)
    like = (
        learned.likes([c[2] for c in chosen], reader, space)
        if reader is not None and space is not None
        else None
    )
    picks = []
    for n, (_, _, pid, score, liked) in enumerate(chosen, 1):
        reasons = _reasons(pid, part)
        if like is not None:
            why = learned.why_line(
                pool.by_id[pid], reasons, like=like.get(pid, ""), discovery=pid in discoveries
            )
        else:
            why = learned.why_line(pool.by_id[pid], reasons, wanted_more=liked >= W_FEEDBACK_CATEGORY)
        picks.append(Pick(paper_id=pid, position=n, score=round(score, 3), why=why))
    return picks


# What the rules let in: relevance by paper, the vetoed papers, and each rule's papers (for why-lines):
# followed authors, keywords, topics, saved searches, followed categories.
RulesPart = tuple[
    dict[int, float],
    set[int],
    list[tuple[str, set[int]]],
    list[tuple[str, set[int]]],
    list[dict[int, tuple[tuple[str, str], ...]]],
    list[tuple[str, set[int]]],
    list[tuple[str, set[int]]],
]


def _rules_part(profile: Profile, pool: CandidatePool, exclude_ids: frozenset[int]) -> RulesPart:
    """Return what the profile's rules let in, kept in the pool: readers with equal rules share it."""
    key = (profile, exclude_ids)
    part = pool.rules_parts.get(key)
    if part is not None:
        return part  # type: ignore[return-value]
    depth = max(RULE_DEPTH, 3 * profile.max_papers)
    vetoed: set[int] = set(exclude_ids)
    for phrase in profile.excluded:
        vetoed |= pool.phrase_hits(phrase)
    # Each rule's papers are kept to say why a paper was chosen, for the few chosen only.
    if vetoed:
        topics_relevance, by_topic = topics_part(profile.topics, pool, vetoed=vetoed, depth=depth)
    else:  # the common case: the topics' part is shared by everyone with these topics
        topics_relevance, by_topic = shared_topics_part(pool, profile.topics, depth)
    relevance: dict[int, float] = defaultdict(float, topics_relevance)
    authors = [(a, ("author", name_key(a)), pool.author_hits(a)) for a in profile.authors]
    followed = _rule_part(authors, W_AUTHOR, pool, vetoed, depth, relevance)
    keywords = [(k, ("phrase", k.casefold()), pool.phrase_hits(k)) for k in profile.keywords]
    matched = _rule_part(keywords, W_KEYWORD, pool, vetoed, depth, relevance)
    searches = [(s.query, ("search", s.query, s.category), pool.search_hits(s)) for s in profile.searches]
    found = _rule_part(searches, W_SEARCH, pool, vetoed, depth, relevance)
    crosslists = profile.include_crosslists
    categories = [
        (c, ("followed", c, crosslists), pool.followed_hits(c, crosslists)) for c in profile.categories
    ]
    within = _rule_part(categories, W_FOLLOWED_CATEGORY, pool, vetoed, depth, relevance)
    if len(pool.rules_parts) >= SELECTIONS_KEPT:
        del pool.rules_parts[next(iter(pool.rules_parts))]
    part = pool.rules_parts[key] = (dict(relevance), vetoed, followed, matched, by_topic, found, within)
    return part


def _rules_ranked(
    profile: Profile, pool: CandidatePool, relevance: dict[int, float], vetoed: set[int]
) -> list[Ranked]:
    """Score by the rules' fixed weights, merit and "more/less like this" on categories and authors."""
    liked_categories, liked_authors = dict(profile.feedback_categories), dict(profile.feedback_authors)
    ranked: list[Ranked] = []
    for paper_id, base in relevance.items():
        if paper_id in vetoed:
            continue
        liked = 0.0
        if liked_categories or liked_authors:
            liked = _liked(pool.by_id[paper_id], liked_categories, liked_authors)
        score = base + pool.merit[paper_id] + liked
        ranked.append((-score, -pool.upvotes[paper_id], paper_id, score, liked))
    return ranked


def _rule_part(
    rules: list[tuple[str, tuple[str, str], frozenset[int]]],
    weight: float,
    pool: CandidatePool,
    vetoed: set[int],
    depth: int,
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


def _reasons(paper_id: int, part: RulesPart) -> Reasons:
    """Return the rules that brought ``paper_id``, in the profile's order (a category named once)."""
    _, _, followed, matched, by_topic, found, within = part
    why = Reasons(
        authors=[author for author, ids in followed if paper_id in ids],
        keywords=[keyword for keyword, ids in matched if paper_id in ids],
        searches=[query for query, ids in found if paper_id in ids],
        categories=[category for category, ids in within if paper_id in ids],
    )
    for taken in by_topic:
        for kind, words in taken.get(paper_id, ()):
            if kind == "topic":
                if words not in why.topics:
                    why.topics.append(words)
            else:
                why.pinned_in.append(words)
    return why


def _clip(value: float) -> float:
    return max(-FEEDBACK_CLIP, min(FEEDBACK_CLIP, value))


def _cap_by_category(
    ranked: list[Ranked], pool: CandidatePool, *, limit: int, vouched: float = math.inf
) -> list[Ranked]:
    """Take the best papers, at most ~40% from one primary category while others are waiting.

    The cap keeps a flood the reader did not ask for from filling the digest;
    a paper whose learned score is ``vouched`` or more is one the reader's own
    model asks for (a narrow reader's interests may all live in one
    category), so it is never held back.
    """
    cap = max(2, math.ceil(limit * 0.4))
    taken: list[Ranked] = []
    held_back: list[Ranked] = []
    per_category: dict[str, int] = defaultdict(int)
    for item in ranked:
        if len(taken) == limit:
            break
        category = pool.by_id[item[2]].primary_category
        if per_category[category] >= cap and item[4] < vouched:
            held_back.append(item)
            continue
        per_category[category] += 1
        taken.append(item)
    # A flood only gives way to other papers; with nothing else to send, fill up with it.
    taken.extend(held_back[: limit - len(taken)])
    return sorted(taken)
