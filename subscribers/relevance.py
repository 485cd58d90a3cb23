"""A reader's model: one weight vector over paper vectors, trained from what the reader said. Pure.

Rocchio's relevance feedback in the embedding space, centred on the
catalogue: the weights point from an average paper towards the papers the
reader liked and their stated interests, and away from the papers they
disliked. The stated interests (keywords, followed authors' papers, topics)
are the prior: with no ratings they alone decide, and each rating moves the
model further from them. Training is a few vector means, so it runs after
every click and for a hundred thousand readers in one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from papers.embedding import VECTOR_DTYPE

# How much each part weighs: a liked paper's pull, a disliked paper's push, and the priors'
# weights expressed as the number of likes each is worth. What the reader typed (keywords, authors)
# says more than a topic's name, which the topic's rules already act on.
LIKED = 1.0
DISLIKED = 0.6
STATED_LIKES = 2.0
TOPIC_LIKES = 0.5


@dataclass(frozen=True)
class Evidence:
    """What a reader's model is trained on: rows of paper vectors (one version), and the prior's."""

    liked: np.ndarray  # (n, dim)
    disliked: np.ndarray  # (m, dim)
    stated: np.ndarray  # (k, dim): keywords, followed authors' papers
    topics: np.ndarray  # (t, dim): the chosen topics' names, descriptions and keywords
    centre: np.ndarray  # (dim,): the catalogue's mean paper


def train(evidence: Evidence) -> np.ndarray:
    """Return the reader's unit weight vector (zeros when there is nothing to learn from)."""
    dim = evidence.centre.shape[0]
    pull = np.zeros(dim, dtype=np.float64)
    weight = 0.0
    for prior, worth in ((evidence.stated, STATED_LIKES), (evidence.topics, TOPIC_LIKES)):
        if len(prior):
            pull += worth * _unit(prior.mean(axis=0) - evidence.centre)
            weight += worth
    if len(evidence.liked):
        pull += LIKED * len(evidence.liked) * _unit(evidence.liked.mean(axis=0) - evidence.centre)
        weight += LIKED * len(evidence.liked)
    if len(evidence.disliked):
        push = _unit(evidence.disliked.mean(axis=0) - evidence.centre)
        pull -= DISLIKED * len(evidence.disliked) * push
        weight += DISLIKED * len(evidence.disliked)
    if weight == 0:
        return np.zeros(dim, dtype=VECTOR_DTYPE)
    return _unit(pull).astype(VECTOR_DTYPE)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
