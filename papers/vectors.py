"""Paper vectors: fitting the embedder on the catalogue, embedding papers, and reading vectors back.

The active :class:`~papers.models.EmbeddingModel` is the one version every
vector in use belongs to. A refit makes a new version, embeds the whole
catalogue with it, and only then makes it active, so a reader's model and the
papers it scores always come from one version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from papers import cache, embedding, signals, site_cache
from papers.models import EmbeddingModel, Paper, PaperVector

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "abstract", "ai_summary", "ai_keywords")
BATCH = 2000
VERSIONS_KEPT = 2  # the active one, and the one readers may still be trained on while they retrain


def active_model() -> EmbeddingModel | None:
    """Return the embedding model in use, or None before the first fit."""
    return EmbeddingModel.objects.filter(active=True).defer("state").first()


@cache.kept("embedders", 1)  # reading and unpickling the model costs far more than any use of it
def _loaded(model_id: int, fitted_at: object, embedder: str) -> Any:
    state = EmbeddingModel.objects.values_list("state", flat=True).get(pk=model_id)
    return embedding.embedder_class(embedder).loads(bytes(state))


def embedder_for(model: EmbeddingModel) -> Any:
    """Return the fitted embedder of ``model``, loaded once per process and version."""
    return _loaded(model.pk, model.fitted_at, model.embedder)


def _texts(rows: Iterable[dict[str, Any]]) -> list[str]:
    return [
        embedding.paper_text(
            title=row["title"],
            abstract=row["abstract"],
            ai_summary=row["ai_summary"],
            ai_keywords=row["ai_keywords"] or (),
        )
        for row in rows
    ]


def _store(model: EmbeddingModel, embedder: Any, rows: list[dict[str, Any]]) -> np.ndarray:
    """Embed ``rows`` (papers' text fields and ids) with ``embedder``, store them; return their sum."""
    total = np.zeros(model.dim, dtype=np.float64)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        matrix = embedder.transform(_texts(batch))
        PaperVector.objects.bulk_create(
            [
                PaperVector(model=model, paper_id=row["id"], vector=embedding.to_bytes(vector))
                for row, vector in zip(batch, matrix, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["model", "paper"],
            update_fields=["vector"],
        )
        total += matrix.sum(axis=0)
    return total


def embedding_refit(*, embedder_path: str | None = None) -> EmbeddingModel:
    """Fit a new embedding version on the catalogue, embed every paper with it, make it active.

    Raises EmbeddingError when the catalogue is too small to learn from.
    """
    path = embedder_path or settings.PAPER_EMBEDDER
    recent = Paper.objects.order_by(F("announced_on").desc(nulls_last=True), "-pk").values(
        "id", *TEXT_FIELDS
    )[: settings.PAPER_EMBEDDING_FIT_LIMIT]
    rows = list(recent)
    embedder = embedding.embedder_class(path)()
    embedder.fit(_texts(rows))
    model = EmbeddingModel.objects.create(
        embedder=path, name=embedder.name, dim=embedder.dim, state=embedder.dumps(), papers=len(rows)
    )
    rows = list(Paper.objects.values("id", *TEXT_FIELDS).order_by("pk"))
    centre = _store(model, embedder, rows) / max(1, len(rows))
    with transaction.atomic():
        _serialise_activations()
        EmbeddingModel.objects.filter(active=True).update(active=False)
        EmbeddingModel.objects.filter(pk=model.pk).update(
            active=True, fitted_at=timezone.now(), centre=embedding.to_bytes(centre)
        )
        old = EmbeddingModel.objects.order_by("-fitted_at", "-pk").values_list("pk", flat=True)[
            VERSIONS_KEPT:
        ]
        EmbeddingModel.objects.filter(pk__in=list(old)).delete()
    # Papers stored while the catalogue was being embedded were embedded with the old version.
    missing = Paper.objects.exclude(vectors__model=model).values("id", *TEXT_FIELDS).order_by("pk")
    _store(model, embedder, list(missing))
    model.refresh_from_db()
    transaction.on_commit(lambda: signals.embedding_refitted.send(sender=EmbeddingModel, model_id=model.pk))
    logger.info("embedding: fitted %s", model)
    return model


def _serialise_activations() -> None:
    """Make concurrent refits (two first ingests at once, say) switch the active version one at a time.

    Without it both would deactivate nothing, each activate its own, and one would break the
    one-active constraint. SQLite already runs one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x656D626564])  # "embed"


def papers_embed(*, arxiv_ids: Sequence[str]) -> int:
    """Embed these papers with the active version (fitting the first version if there is none).

    Returns how many papers were embedded. Safe to run twice: a paper's vector is replaced.
    """
    model = active_model()
    if model is None or _outgrown(model):
        try:
            return embedding_refit().papers
        except embedding.EmbeddingError as error:
            if model is None:
                logger.info("embedding: not fitted yet (%s)", error)
                return 0
            logger.warning("embedding: refit failed, embedding with %s (%s)", model, error)
    rows = list(Paper.objects.filter(arxiv_id__in=list(arxiv_ids)).values("id", *TEXT_FIELDS))
    _store(model, embedder_for(model), rows)
    if rows:
        site_cache.bump_on_commit()  # pages rendered since ingest listed these papers' neighbours by rule
    return len(rows)


def _outgrown(model: EmbeddingModel) -> bool:
    """Return whether the catalogue has outgrown ``model``: see PAPER_EMBEDDING_REFIT_GROWTH."""
    growth = settings.PAPER_EMBEDDING_REFIT_GROWTH
    if growth <= 0:
        return False
    would_fit = min(Paper.objects.count(), settings.PAPER_EMBEDDING_FIT_LIMIT)
    return would_fit >= model.papers * (1 + growth)


def texts_embed(model: EmbeddingModel, texts: Sequence[str]) -> np.ndarray:
    """Return ``texts`` as vectors of ``model``'s version (a reader's stated interests, say)."""
    return embedder_for(model).transform(list(texts))


def vectors_for(*, model_id: int, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Return the vectors of these papers under one version (papers not yet embedded are left out)."""
    rows = PaperVector.objects.filter(model_id=model_id, paper_id__in=list(paper_ids)).values_list(
        "paper_id", "vector"
    )
    return {paper_id: embedding.from_bytes(vector) for paper_id, vector in rows}


def centre_of(model: EmbeddingModel) -> np.ndarray:
    """Return the catalogue's mean vector under ``model`` (zeros if it was never recorded)."""
    data = bytes(model.centre or b"")
    return embedding.from_bytes(data) if data else np.zeros(model.dim, dtype=embedding.VECTOR_DTYPE)
