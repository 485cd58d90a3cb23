"""Pools: the papers each delivery may draw on, and what a learned ranking reads beside them.

A delivery draws on its window of announcement days and on the papers that
came late, or started trending, since its reader's previous digest
(:func:`late`). Deliveries with equal windows and equal late papers share one
:class:`~newsletter.candidates.CandidatePool`, and the chunk's readers' models
score pools through one :class:`~newsletter.space.Space` of paper
vectors per pool (:class:`Pools`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from newsletter import candidates
from newsletter.models import Delivery
from newsletter.space import Reader, Space, Vectors
from papers import cache
from papers.embedding import from_bytes
from papers.models import Paper, PaperVector
from subscribers.models import ReaderModel

Window = tuple[dt.date, dt.date]

POOLS_KEPT = 8  # a worker's chunks draw on one or two days' papers, and the few that came late
# A paper announced this many days back may still reach a reader who had its day, if it was first
# seen, or started trending, after their previous digest.
LATE_DAYS = 7


def candidate(paper: Paper, pins: frozenset[int] = frozenset()) -> candidates.Candidate:
    """Return the paper as the ranker sees it; ``pins`` are the topics that pinned it."""
    return candidates.Candidate(
        id=paper.pk,
        title=paper.title,
        abstract=paper.abstract,
        categories=tuple(paper.categories),
        primary_category=paper.primary_category,
        author_names=tuple(paper.author_names),
        upvotes=paper.upvotes,
        featured=paper.featured,
        pinned_topics=pins,
    )


def candidate_pool(papers: list[Paper], pins: dict[int, frozenset[int]]) -> candidates.CandidatePool:
    """Return the pool of these papers, the same one a previous chunk used if nothing changed.

    A pool memoises which papers each keyword, topic and author matches; the
    next chunks of a morning draw on the same papers, so the pool is kept
    (cache region "pools"), keyed by every field the ranker reads, so an
    edited, hidden or newly pinned paper makes a new one.
    """
    key = tuple(
        (
            p.pk,
            p.title,
            p.abstract,
            tuple(p.categories),
            p.primary_category,
            tuple(p.author_names),
            p.upvotes,
            p.featured,
            pins.get(p.pk, frozenset()),
        )
        for p in sorted(papers, key=lambda p: p.pk)
    )
    pools = cache.region("pools", POOLS_KEPT)
    return pools.get_or_make(
        key, lambda: candidates.CandidatePool(candidate(p, pins.get(p.pk, frozenset())) for p in papers)
    )


@dataclass(frozen=True)
class Eligible:
    """What a delivery may draw on: its window of days, and papers that came late or caught on since."""

    span: Window | None  # None: no new announcement day, only what came late
    latest: dt.date
    since: dt.datetime | None  # when the previous digest was planned


def late(papers: list[Paper], eligible: Eligible) -> tuple[int, ...]:
    """Return the papers outside the window that came, or caught on, after the previous digest."""
    if eligible.since is None:
        return ()
    oldest = eligible.latest - dt.timedelta(days=LATE_DAYS - 1)
    start = eligible.span[0] if eligible.span else eligible.latest + dt.timedelta(days=1)
    return tuple(
        p.pk
        for p in papers
        if oldest <= p.announced_on < start
        and (p.first_seen_at > eligible.since or (p.trending_since and p.trending_since > eligible.since))
    )


class Pools:
    """The chunk's candidate pools, one per window and set of late papers, with their vectors."""

    def __init__(
        self, rankable: list[Paper], pins: dict[int, frozenset[int]], readers: dict[int, Reader]
    ) -> None:
        self.rankable = rankable
        self.by_id = {p.pk: p for p in rankable}
        self.pins = pins
        self.pools: dict[tuple[Window | None, tuple[int, ...]], candidates.CandidatePool] = {}
        self.spaces: dict[tuple[Window | None, tuple[int, ...]], Space] = {}
        self.vectors: Vectors | None = None
        if readers:
            liked = {pid for reader in readers.values() for pid in reader.liked}
            self.vectors = vectors({*self.by_id, *liked}, next(iter(readers.values())))

    def get(
        self, span: Window | None, late: tuple[int, ...]
    ) -> tuple[candidates.CandidatePool, Space | None]:
        pool = self.pools.get((span, late))
        if pool is None:
            chosen = [p for p in self.rankable if span and span[0] <= p.announced_on <= span[1]]
            chosen += [self.by_id[pk] for pk in late]
            pool = self.pools[(span, late)] = candidate_pool(chosen, self.pins)
        if not self.vectors:
            return pool, None
        space = self.spaces.get((span, late))
        if space is None:
            space = self.spaces[(span, late)] = Space(self.vectors, pool.by_id)
        return pool, space


def readers(deliveries: list[Delivery]) -> dict[int, Reader]:
    """Return the stored models of the chunk's readers under the active embedding (one query).

    A reader whose model is of an older version has none until it is retrained: versions never mix.
    """
    rows = ReaderModel.objects.filter(
        subscriber_id__in=[d.subscriber_id for d in deliveries], embedding__active=True
    ).values_list("subscriber_id", "embedding_id", "weights", "liked", "likes")
    readers: dict[int, Reader] = {}
    for subscriber_id, embedding_id, weights, liked, likes in rows:
        readers[subscriber_id] = Reader(
            weights=from_bytes(weights), liked=tuple(liked), likes=likes, version=embedding_id
        )
    return readers


def vectors(paper_ids: set[int], reader: Reader) -> Vectors:
    """Return the vectors of these papers under the readers' version, with their titles (one query)."""
    rows = PaperVector.objects.filter(model_id=reader.version, paper_id__in=sorted(paper_ids)).values_list(
        "paper_id", "vector", "paper__title"
    )
    vectors: dict[int, np.ndarray] = {}
    titles: dict[int, str] = {}
    for paper_id, vector, title in rows:
        vectors[paper_id] = from_bytes(vector)
        titles[paper_id] = title
    return Vectors(vectors, titles, reader.weights.shape[0])
