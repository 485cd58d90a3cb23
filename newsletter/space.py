"""The vector space of a learned ranking: a reader's model, and the paper vectors it scores.

A chunk's paper vectors (one embedding version) are stacked once into
:class:`Vectors`; each candidate pool reads its rows through a :class:`Space`,
and a :class:`Reader` is the weights a reader's model puts on them. Pure: no
database (newsletter/pools.py reads the vectors and the readers' models).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# A reader's score of a paper, in standard deviations from the pool's mean, is clipped to this.
Z_CLIP = 4.0


@dataclass(frozen=True, eq=False)
class Reader:
    """A reader's learned model as the ranker sees it: weights over one embedding version's vectors."""

    weights: np.ndarray
    liked: tuple[int, ...] = ()  # newest first
    likes: int = 0
    version: int = 0  # the embedding version its weights belong to


class Vectors:
    """The paper vectors a chunk's rankings read (one embedding version), stacked once: a row per paper.

    Readers' scores and "like" similarities index rows of one matrix, so a
    digest builds no arrays of its own from single vectors.
    """

    def __init__(self, vectors: dict[int, np.ndarray], titles: dict[int, str], dim: int) -> None:
        self.row = {pid: n for n, pid in enumerate(vectors)}
        self.matrix = np.vstack(list(vectors.values())) if vectors else np.zeros((0, dim), dtype=np.float32)
        self.titles = titles

    def __len__(self) -> int:
        return len(self.row)


class Space:
    """The vectors a pool's rankings read: the pool's papers' rows, and every row for liked papers."""

    def __init__(self, vectors: Vectors, pool_ids: Iterable[int]) -> None:
        self.ids = [pid for pid in pool_ids if pid in vectors.row]
        self.row = {pid: n for n, pid in enumerate(self.ids)}
        self.matrix = vectors.matrix[[vectors.row[pid] for pid in self.ids]]
        self.vectors = vectors
        self.titles = vectors.titles

    def standardised(self, weights: np.ndarray) -> np.ndarray:
        """Return the reader's score of each pool paper (rows as ``ids``), in standard deviations."""
        scores = self.matrix @ weights
        spread = float(scores.std()) if len(scores) else 0.0
        if spread <= 1e-9:
            return np.zeros(len(scores), dtype=np.float32)
        return np.clip((scores - scores.mean()) / spread, -Z_CLIP, Z_CLIP)

    def nearest_liked(self, paper_ids: list[int], liked: tuple[int, ...]) -> dict[int, tuple[int, float]]:
        """Return, for each paper with a vector, the most similar liked paper and their similarity."""
        rows = self.vectors.row
        known = [pid for pid in liked if pid in rows]
        chosen = [pid for pid in paper_ids if pid in rows]
        if not known or not chosen:
            return {}
        matrix = self.vectors.matrix
        liked_matrix = matrix[[rows[pid] for pid in known]]
        similarity = matrix[[rows[pid] for pid in chosen]] @ liked_matrix.T
        similarity[np.equal.outer(chosen, known)] = -np.inf  # a paper is not "like" itself
        best = similarity.argmax(axis=1).tolist()
        return {
            pid: (known[n], float(similarity[row, n]))
            for row, (pid, n) in enumerate(zip(chosen, best, strict=True))
            if similarity[row, n] > -np.inf
        }
