"""Paper representations: the embedder seam and the default, scikit-learn's tf-idf reduced by SVD.

An embedder turns texts into dense, L2-normalised float32 vectors of one
fixed size. It is fitted on the catalogue, serialised to bytes (stored in the
database, so every machine reads the same model) and loaded back by name.
``PAPER_EMBEDDER`` names the class; another one (a sentence-embedding model)
plugs in by implementing :class:`Embedder`. Pure: no database, no downloads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Protocol

import joblib
import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

VECTOR_DTYPE = np.float32


class Embedder(Protocol):
    """What papermail needs of a text embedder."""

    name: str  # recorded with each fitted model
    dim: int  # the size of the vectors, known once fitted

    def fit(self, texts: Sequence[str]) -> None:
        """Learn the representation from the catalogue's texts."""

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text."""

    def dumps(self) -> bytes:
        """Return the fitted state, for :meth:`loads` on any machine."""


class EmbeddingError(ValueError):
    """The catalogue cannot be embedded (too few papers, or no words to learn from)."""


def paper_text(*, title: str, abstract: str, ai_summary: str = "", ai_keywords: Sequence[str] = ()) -> str:
    """Return what a paper is embedded from: its title (twice: it is the densest text), abstract, AI notes."""
    return "\n".join(part for part in (title, title, abstract, ai_summary, ", ".join(ai_keywords)) if part)


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix``'s rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=VECTOR_DTYPE)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class TfidfEmbedder:
    """tf-idf over words and word pairs (sublinear tf, English stop words), reduced by TruncatedSVD.

    The reduction keeps vectors small (a reader's model is one vector of the
    same size) and lets "reasoning" and "chain-of-thought" land close together.
    A catalogue keeps about one dimension per ten papers (at least 32), at most the requested number.
    """

    name = "tfidf-svd"

    def __init__(self, *, dimensions: int | None = None, max_features: int | None = None) -> None:
        self.dimensions = dimensions or settings.PAPER_EMBEDDING_DIMENSIONS
        self.max_features = max_features or settings.PAPER_EMBEDDING_MAX_FEATURES
        self.vectorizer: Any = None
        self.svd: Any = None
        self.dim = 0

    def fit(self, texts: Sequence[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        if len(texts) < 2:
            raise EmbeddingError("at least two papers are needed to learn a representation")
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            stop_words="english",
            min_df=2 if len(texts) >= 200 else 1,
            max_df=0.5 if len(texts) >= 200 else 1.0,
            max_features=self.max_features,
            dtype=np.float32,
        )
        try:
            tfidf = self.vectorizer.fit_transform(texts)
        except ValueError as error:  # an empty vocabulary
            raise EmbeddingError(str(error)) from error
        # The pruned terms are only kept for inspection and would make the stored model huge.
        self.vectorizer.stop_words_ = None
        # About one dimension per ten papers (at least 32): a small catalogue ranks worse with many.
        wanted = max(32, tfidf.shape[0] // 10)
        components = min(self.dimensions, wanted, tfidf.shape[0] - 1, tfidf.shape[1] - 1)
        self.svd = None
        if components >= 2:
            self.svd = TruncatedSVD(n_components=components, algorithm="randomized", random_state=0)
            self.svd.fit(tfidf)
            self.svd.components_ = self.svd.components_.astype(VECTOR_DTYPE)
        self.dim = components if self.svd is not None else tfidf.shape[1]

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None:
            raise EmbeddingError("the embedder is not fitted")
        if not texts:
            return np.zeros((0, self.dim), dtype=VECTOR_DTYPE)
        tfidf = self.vectorizer.transform(texts)
        dense = tfidf @ self.svd.components_.T if self.svd is not None else tfidf.toarray()
        return normalise(dense)

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"vectorizer": self.vectorizer, "svd": self.svd, "dim": self.dim}, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> TfidfEmbedder:
        state = joblib.load(io.BytesIO(data))
        embedder = cls()
        embedder.vectorizer, embedder.svd, embedder.dim = state["vectorizer"], state["svd"], state["dim"]
        return embedder


def import_libraries() -> None:
    """Import what reading a fitted tf-idf embedder needs (scikit-learn is slow to import).

    For a pre-forking server to call before it forks: otherwise every web
    worker pays the import on its first search, as one very slow request.
    """
    import sklearn.decomposition
    import sklearn.feature_extraction.text  # noqa: F401


def embedder_class(path: str | None = None) -> Any:
    """Return the embedder class named by ``path`` or the PAPER_EMBEDDER setting."""
    return import_string(path or settings.PAPER_EMBEDDER)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(data, dtype=VECTOR_DTYPE)
