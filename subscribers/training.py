"""Training readers' models: what each reader liked, disliked and asked for, as one weight vector.

Services (they write ReaderModel rows). A change to a reader's feedback or
preferences asks for a retrain once their transaction commits
(:func:`retrain_after_commit`); the task that answers runs
:func:`reader_model_train`. Dispatch only reads the stored models.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from papers import vectors
from papers.embedding import VECTOR_DTYPE, to_bytes
from papers.models import EmbeddingModel, Paper
from subscribers import relevance, signals
from subscribers.models import Feedback, ReaderModel, Subscriber

logger = logging.getLogger(__name__)

LIKED_KEPT = 50  # the liked papers a why-line may name
AUTHOR_PAPERS = 10  # a followed author's latest papers stand for what they write


def retrain_after_commit(subscriber_id: int) -> None:
    """Have this reader's model retrained once the current transaction commits (once per transaction)."""
    for _, queued, *_ in connection.run_on_commit:
        if getattr(queued, "retrains", None) == subscriber_id:
            return

    def ask() -> None:
        signals.reader_changed.send(sender=Subscriber, subscriber_id=subscriber_id)

    ask.retrains = subscriber_id  # type: ignore[attr-defined]
    transaction.on_commit(ask)


def _topic_texts(subscriber: Subscriber) -> list[str]:
    texts = [" ".join([t.name, t.description, *t.include_keywords]) for t in subscriber.topics.all()]
    return [text for text in texts if text.strip()]


def _author_papers(subscriber: Subscriber) -> list[int]:
    ids: list[int] = []
    for author in subscriber.authors[:20]:
        found = Paper.objects.filter(author_names__contains=[author], hidden=False).order_by("-announced_on")
        ids.extend(found.values_list("pk", flat=True)[:AUTHOR_PAPERS])
    return ids


def evidence_for(subscriber: Subscriber, model: EmbeddingModel) -> tuple[relevance.Evidence, list[int]]:
    """Return what ``subscriber``'s model learns from under ``model``, and the liked papers, newest first."""
    rated = list(
        Feedback.objects.filter(subscriber=subscriber)
        .order_by("-created_at", "-pk")
        .values_list("paper_id", "value")[: settings.DIGEST_FEEDBACK_LIMIT]
    )
    liked = [paper_id for paper_id, value in rated if value > 0]
    disliked = [paper_id for paper_id, value in rated if value < 0]
    by_author = _author_papers(subscriber)
    found = vectors.vectors_for(model_id=model.pk, paper_ids={*liked, *disliked, *by_author})
    keywords = [k for k in subscriber.keywords if k.strip()]
    stated = [vectors.texts_embed(model, keywords), _rows(found, by_author, model.dim)] if keywords else []
    stated = stated or [_rows(found, by_author, model.dim)]
    topics = _topic_texts(subscriber)
    evidence = relevance.Evidence(
        liked=_rows(found, liked, model.dim),
        disliked=_rows(found, disliked, model.dim),
        stated=np.vstack(stated),
        topics=vectors.texts_embed(model, topics) if topics else np.zeros((0, model.dim), VECTOR_DTYPE),
        centre=vectors.centre_of(model),
    )
    return evidence, [i for i in liked if i in found]


def _rows(found: dict[int, np.ndarray], ids: Iterable[int], dim: int) -> np.ndarray:
    rows = [found[i] for i in ids if i in found]
    return np.vstack(rows) if rows else np.zeros((0, dim), dtype=VECTOR_DTYPE)


def reader_model_train(*, subscriber_id: int) -> ReaderModel | None:
    """Train and store one reader's model under the active embedding; None without one (or reader)."""
    model = vectors.active_model()
    subscriber = Subscriber.objects.prefetch_related("topics").filter(pk=subscriber_id).first()
    if model is None or subscriber is None:
        return None
    evidence, liked = evidence_for(subscriber, model)
    weights = relevance.train(evidence)
    reader, _ = ReaderModel.objects.update_or_create(
        subscriber=subscriber,
        defaults={
            "embedding": model,
            "weights": to_bytes(weights),
            "liked": liked[:LIKED_KEPT],
            "likes": len(evidence.liked),
            "dislikes": len(evidence.disliked),
            "stated": len(evidence.stated) + len(evidence.topics),
            "trained_at": timezone.now(),
        },
    )
    return reader


def readers_retrain_stale(*, limit: int = 2000) -> int:
    """Train the active readers whose model is missing or of an older embedding; return how many.

    At most ``limit`` per call: the task calls again while some remain.
    """
    model = vectors.active_model()
    if model is None:
        return 0
    current = ReaderModel.objects.filter(subscriber=OuterRef("pk"), embedding=model)
    stale = (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .filter(~Exists(current))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for subscriber_id in list(stale):
        done += reader_model_train(subscriber_id=subscriber_id) is not None
    return done
