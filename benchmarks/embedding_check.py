"""A small labelled check for the choices in papers/embedding.py and subscribers/relevance.py.

    .venv/bin/python benchmarks/embedding_check.py

No database. The real papers saved under ../shared/fixtures/feeds and
papers/demo (about 360: arXiv stat, an arXiv API query, Hugging Face days) are
embedded; simulated readers are interested in one field, labelled by the
papers' arXiv primary category (a field's papers are relevant, the rest not:
a coarse but honest label). Each reader likes 8 relevant and dislikes 8 other
papers (20 draws); the rest are ranked and scored by P@10 and nDCG@10. Also
printed: the cost of training one reader's model.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
from common import ROOT, setup_django

INTERESTS = {
    "statistical methodology": lambda c: c == "stat.ME",
    "software testing": lambda c: c == "cs.SE",
    "machine learning": lambda c: c in ("cs.LG", "stat.ML"),
    "condensed matter": lambda c: c.startswith("cond-mat"),
    "statistics theory": lambda c: c in ("math.ST", "stat.TH"),
}
LIKES, DISLIKES, DRAWS = 8, 8, 20


def load_papers() -> list[tuple[str, str]]:
    from papers import feeds
    from papers.embedding import paper_text

    seen: dict[str, tuple[str, str]] = {}
    folders = [ROOT.parent / "shared" / "fixtures" / "feeds", ROOT / "papers" / "demo"]
    for path in sorted(p for folder in folders for p in folder.glob("*") if p.suffix != ".md"):
        try:
            parsed = feeds.parse(path.read_bytes())
        except Exception:  # noqa: S112 - error documents are part of the fixtures
            continue
        for e in parsed.entries:
            text = paper_text(
                title=e.title, abstract=e.abstract, ai_summary=e.ai_summary, ai_keywords=e.ai_keywords
            )
            seen.setdefault(e.arxiv_id, (e.primary_category, text))
    return list(seen.values())


def metrics(order: list[int], relevant: set[int]) -> tuple[float, float]:
    top = order[:10]
    precision = sum(1 for i in top if i in relevant) / 10
    dcg = sum(1 / np.log2(rank + 2) for rank, i in enumerate(top) if i in relevant)
    ideal = sum(1 / np.log2(rank + 2) for rank in range(min(10, len(relevant))))
    return precision, dcg / ideal if ideal else 0.0


def rocchio(vectors: np.ndarray, centre: np.ndarray):  # type: ignore[no-untyped-def]
    from subscribers.relevance import Evidence, train

    def fit(liked: list[int], disliked: list[int]) -> np.ndarray:
        empty = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        weights = train(Evidence(vectors[liked], vectors[disliked], empty, empty, centre))
        return vectors @ weights

    return fit


def logistic(vectors: np.ndarray, rng: random.Random):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    def fit(liked: list[int], disliked: list[int]) -> np.ndarray:
        background = rng.sample(range(len(vectors)), 100)
        x = np.vstack([vectors[liked], vectors[disliked], vectors[background]])
        y = [1] * len(liked) + [0] * (len(disliked) + len(background))
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=200).fit(x, y)
        return model.decision_function(vectors)

    return fit


def svm_sparse(texts: list[str]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit_transform(texts)

    def fit(liked: list[int], disliked: list[int]) -> np.ndarray:
        y = np.zeros(tfidf.shape[0])
        y[liked] = 1
        model = LinearSVC(C=0.01, class_weight="balanced").fit(tfidf, y)
        return model.decision_function(tfidf)

    return fit


def evaluate(name: str, fit, categories: list[str]) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    p_sum = n_sum = 0.0
    runs = 0
    started = time.perf_counter()
    for match in INTERESTS.values():
        relevant = {i for i, c in enumerate(categories) if match(c)}
        others = [i for i in range(len(categories)) if i not in relevant]
        for _ in range(DRAWS):
            liked = rng.sample(sorted(relevant), LIKES)
            disliked = rng.sample(others, DISLIKES)
            scores = fit(liked, disliked)
            rated = set(liked) | set(disliked)
            order = [int(i) for i in np.argsort(-scores) if int(i) not in rated]
            p, n = metrics(order, relevant - rated)
            p_sum, n_sum, runs = p_sum + p, n_sum + n, runs + 1
    per_reader = (time.perf_counter() - started) / runs * 1000
    print(f"{name:<38} P@10 {p_sum / runs:.3f}  nDCG@10 {n_sum / runs:.3f}  {per_reader:6.1f} ms per reader")


def main() -> int:
    setup_django()
    from papers.embedding import TfidfEmbedder

    papers = load_papers()
    categories = [c for c, _ in papers]
    texts = [t for _, t in papers]
    print(f"{len(papers)} papers; readers: {', '.join(INTERESTS)}; {LIKES} likes, {DISLIKES} dislikes")
    for dims in (0, 32, 64, 128):
        embedder = TfidfEmbedder(dimensions=dims or 2, max_features=50_000)
        embedder.fit(texts)
        if dims:
            vectors, label = embedder.transform(texts), f"tf-idf + SVD {embedder.dim}"
        else:  # no reduction: the tf-idf vectors themselves
            vectors = embedder.vectorizer.transform(texts).toarray()
            label = f"tf-idf ({vectors.shape[1]} terms)"
        centre = vectors.mean(axis=0)
        evaluate(f"{label}, Rocchio", rocchio(vectors, centre), categories)
        evaluate(f"{label}, logistic regression", logistic(vectors, random.Random(1)), categories)
    evaluate("arxiv-sanity-lite (tf-idf, LinearSVC)", svm_sparse(texts), categories)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
