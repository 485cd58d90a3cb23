"""Learned ranking: a reader's model orders what their rules let in, and brings a few discoveries.

Pure, no database: a :class:`~newsletter.space.Reader` (weights trained
by subscribers/training.py) scores every paper of a pool through the pool's
:class:`~newsletter.space.Space` of vectors. The rules still decide what
may enter; their weights count for RULE_SHARE, an editor's pin in full. Papers
outside the rules come in as marked discoveries: a few the model scores far
above the rest, and, when narrow rules leave a digest short, enough of those
it vouches for to fill it.
"""

from __future__ import annotations

import math

import numpy as np
from django.conf import settings

from newsletter.candidates import (
    DISCOVERY_Z,
    LIKE_SIMILARITY,
    RULE_SHARE,
    VOUCHED_Z,
    W_LEARNED,
    W_PINNED,
    Candidate,
    CandidatePool,
    Profile,
    Ranked,
    Reasons,
    quoted,
    searched,
    trending,
)
from newsletter.space import Reader, Space

TITLE_SHOWN = 70


def discovery_slots(profile: Profile) -> int:
    """Return how many of a digest's papers may be discoveries."""
    return math.floor(profile.max_papers * settings.DIGEST_DISCOVERY_SHARE)


def ranked(
    profile: Profile,
    pool: CandidatePool,
    relevance: dict[int, float],
    vetoed: set[int],
    reader: Reader,
    space: Space,
) -> tuple[list[Ranked], set[int]]:
    """Return the scored candidates (unsorted) and which of them are discoveries."""
    z = space.standardised(reader.weights)
    zs = z.tolist()
    topic_ids = {topic.id for topic in profile.topics}
    rows, merit, by_id = space.row, pool.merit, pool.by_id
    scored: list[Ranked] = []
    for paper_id, base in relevance.items():
        if paper_id in vetoed:
            continue
        row = rows.get(paper_id)
        learned = W_LEARNED * zs[row] if row is not None else 0.0
        pinned = 0.0
        if paper_id in pool.pinned:
            pinned = W_PINNED * len(by_id[paper_id].pinned_topics & topic_ids)
        score = learned + merit[paper_id] + RULE_SHARE * (base - pinned) + pinned
        scored.append((-score, -pool.upvotes[paper_id], paper_id, score, learned))
    discoveries = _discoveries(profile, pool, relevance, vetoed, reader, space, z)
    for paper_id, learned in discoveries.items():
        score = learned + pool.merit[paper_id]
        scored.append((-score, -pool.upvotes[paper_id], paper_id, score, learned))
    return scored, set(discoveries)


def _discoveries(
    profile: Profile,
    pool: CandidatePool,
    relevance: dict[int, float],
    vetoed: set[int],
    reader: Reader,
    space: Space,
    z: np.ndarray,
) -> dict[int, float]:
    """Return the papers outside the profile's rules that come in as discoveries, with their learned score.

    Two kinds, best first: up to the profile's discovery slots of papers far
    above the pool's mean (DISCOVERY_Z), and, when the rules let in fewer
    papers than the digest holds, as many as fill it of those the model
    vouches for (VOUCHED_Z): a reader whose rules are narrow still gets a full
    digest of what they showed they like. Only a reader who has liked
    something gets them (a model of stated interests alone would only echo
    the rules); a topic's excluded keywords veto them too.
    """
    if reader.likes <= 0:
        return {}
    empty = profile.max_papers - sum(1 for paper_id in relevance if paper_id not in vetoed)
    slots = discovery_slots(profile)
    if slots <= 0 and empty <= 0:
        return {}
    lowest = VOUCHED_Z if empty > 0 else DISCOVERY_Z
    outside = [row for row in np.flatnonzero(z >= lowest).tolist() if space.ids[row] not in relevance]
    if not outside:
        return {}
    barred = set(vetoed)
    for topic in profile.topics:
        for phrase in topic.exclude:
            barred |= pool.phrase_hits(phrase)
    found = sorted((-float(z[row]), space.ids[row]) for row in outside if space.ids[row] not in barred)
    far = sum(1 for negative, _ in found[:slots] if -negative >= DISCOVERY_Z)
    return {paper_id: -W_LEARNED * negative for negative, paper_id in found[: max(far, empty)]}


def likes(paper_ids: list[int], reader: Reader, space: Space) -> dict[int, str]:
    """Return "like <title>" for each chosen paper close enough to a paper the reader liked."""
    found: dict[int, str] = {}
    for paper_id, (liked, similarity) in space.nearest_liked(paper_ids, reader.liked).items():
        title = space.titles.get(liked, "")
        if similarity < LIKE_SIMILARITY or not title:
            continue
        if len(title) > TITLE_SHOWN:
            title = title[: TITLE_SHOWN - 1].rsplit(" ", 1)[0] + "…"
        found[paper_id] = f"like “{title}”"
    return found


def why_line(
    candidate: Candidate, why: Reasons, *, like: str = "", discovery: bool = False, wanted_more: bool = False
) -> str:
    """Return the true reason a paper was chosen: the rules that let it in, the liked paper it is like.

    ``wanted_more`` is the rules-only ranking's reason: the reader asked for more of its categories.
    """
    parts: list[str] = []
    if discovery:
        parts.append("outside your topics: " + (like or "close to papers you liked"))
        like = ""
    if why.authors:
        parts.append("you follow " + " and ".join(why.authors[:2]))
    if why.keywords:
        parts.append("matches " + quoted(why.keywords))
    if why.searches:
        parts.append(searched(why.searches))
    if like:
        parts.append(like)
    if places := why.places():
        parts.append("in " + " and ".join(places[:2]))
    if why.pinned_in:
        parts.append("pinned by the editors in " + why.pinned_in[0])
    elif candidate.featured:
        parts.append("featured by the editors")
    if wanted_more:
        parts.append("like papers you wanted more of")
    if candidate.upvotes:
        parts.append(trending(candidate.upvotes))
    return " · ".join(parts)[:300]
