"""Learned models for the dispatch benchmark's subscribers, and what training and ranking cost.

Setup: the embedder is fitted on the catalogue (benchmarks/dispatch.py adds a
month of older papers); each subscriber rates ``ratings`` older papers (about
two thirds likes among papers of their keywords or topics, the rest dislikes
of others), written as Feedback rows; each one's model is trained with the
production trainer (subscribers.relevance.train) on evidence gathered in
memory for all of them at once, and written as ReaderModel rows. Training
through the service, one reader at a time with its queries, is timed apart.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections import defaultdict

import numpy as np

WRITE_BATCH = 5000
TODAY_OFFSET = 30000  # older papers' arXiv ids start here (see dispatch.populate)


def give_every_reader_a_model(*, ratings: int, rng: random.Random) -> None:
    from django.db import connection
    from django.utils import timezone

    from papers import vectors
    from papers.embedding import VECTOR_DTYPE, to_bytes
    from papers.models import Paper
    from subscribers.models import Subscriber
    from subscribers.relevance import Evidence, train

    started = time.perf_counter()
    model = vectors.embedding_refit()
    fitted = time.perf_counter() - started
    old = list(
        Paper.objects.filter(arxiv_id__gte=f"2611.{TODAY_OFFSET}")
        .order_by("pk")
        .values_list("pk", "title", "abstract", "categories")
    )
    found = vectors.vectors_for(model_id=model.pk, paper_ids=[row[0] for row in old])
    ids = [row[0] for row in old]
    matrix = np.vstack([found[pk] for pk in ids])
    texts = [f"{title}\n{abstract}".lower() for _, title, abstract, _ in old]
    by_category: dict[str, list[int]] = defaultdict(list)
    for n, (_, _, _, categories) in enumerate(old):
        for category in categories:
            by_category[category].append(n)
    phrase_rows: dict[str, list[int]] = {}
    topic_vectors: dict[int, np.ndarray] = {}
    keyword_vectors: dict[str, np.ndarray] = {}
    centre = vectors.centre_of(model)
    empty = np.zeros((0, model.dim), dtype=VECTOR_DTYPE)
    now = timezone.now()
    feedback_rows: list[tuple[object, ...]] = []
    written = 0
    model_rows: list[tuple[object, ...]] = []
    subscribers = Subscriber.objects.prefetch_related("topics").order_by("pk")
    for subscriber in subscribers.iterator(chunk_size=2000):
        topics = list(subscriber.topics.all())
        interesting: list[int] = []
        for keyword in subscriber.keywords:
            if keyword not in phrase_rows:
                phrase_rows[keyword] = [n for n, text in enumerate(texts) if keyword.lower() in text]
            interesting += phrase_rows[keyword]
        if not interesting:
            interesting = [n for t in topics for c in t.categories for n in by_category.get(c, [])]
        interesting = sorted(set(interesting))
        likes = rng.sample(interesting, min(len(interesting), ratings * 2 // 3)) if interesting else []
        dislikes = rng.sample(range(len(ids)), ratings - len(likes))
        dislikes = [n for n in dislikes if n not in set(likes)]
        for n in likes:
            feedback_rows.append((subscriber.pk, ids[n], 1, "digest", now))
        for n in dislikes:
            feedback_rows.append((subscriber.pk, ids[n], -1, "digest", now))
        for topic in topics:
            if topic.pk not in topic_vectors:
                text = " ".join([topic.name, topic.description, *topic.include_keywords])
                topic_vectors[topic.pk] = vectors.texts_embed(model, [text])[0]
        for keyword in subscriber.keywords:
            if keyword not in keyword_vectors:
                keyword_vectors[keyword] = vectors.texts_embed(model, [keyword])[0]
        stated = (
            np.vstack([keyword_vectors[k] for k in subscriber.keywords]) if subscriber.keywords else empty
        )
        evidence = Evidence(
            liked=matrix[likes] if likes else empty,
            disliked=matrix[dislikes] if dislikes else empty,
            stated=stated,
            topics=np.vstack([topic_vectors[t.pk] for t in topics]) if topics else empty,
            centre=centre,
        )
        weights = train(evidence)
        liked_ids = [ids[n] for n in likes][:50]
        model_rows.append(
            (
                subscriber.pk,
                model.pk,
                to_bytes(weights),
                liked_ids,
                len(likes),
                len(dislikes),
                len(topics),
                now,
            )
        )
        if len(model_rows) == WRITE_BATCH:  # a batch at a time: the driver's memory stays small
            written += _write(feedback_rows, model_rows)
    written += _write(feedback_rows, model_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"setup: embedder fitted on {model.papers:,} papers in {fitted:.1f} s ({model.dim} dimensions); "
        f"{written:,} ratings and a reader model for each subscriber in {time.perf_counter() - started:.0f} s"
    )


def _write(feedback_rows: list[tuple[object, ...]], model_rows: list[tuple[object, ...]]) -> int:
    """Write and forget a batch of ratings and models; return how many ratings."""
    from papers.db import copy_rows
    from subscribers.models import Feedback, ReaderModel

    copy_rows(Feedback, ("subscriber_id", "paper_id", "value", "source", "created_at"), feedback_rows)
    copy_rows(
        ReaderModel,
        ("subscriber_id", "embedding_id", "weights", "liked", "likes", "dislikes", "stated", "trained_at"),
        model_rows,
    )
    count = len(feedback_rows)
    feedback_rows.clear()
    model_rows.clear()
    return count


def report_costs(samples: int = 200) -> None:
    """Print what training one reader and ranking one digest cost, and the same for a per-reader SVM."""
    from newsletter import planning, pools, profiles, selection
    from papers import vectors
    from papers.models import Paper
    from subscribers import training
    from subscribers.models import Subscriber

    rng = random.Random(5)
    subscriber_ids = list(Subscriber.objects.values_list("pk", flat=True))
    chosen = rng.sample(subscriber_ids, min(samples, len(subscriber_ids)))
    costs = []
    for subscriber_id in chosen[:50]:
        started = time.perf_counter()
        training.reader_model_train(subscriber_id=subscriber_id)
        costs.append(time.perf_counter() - started)
    print(
        f"training one reader   {statistics.mean(costs) * 1000:.1f} ms mean, "
        f"{sorted(costs)[int(len(costs) * 0.95)] * 1000:.1f} ms p95 (the service: its queries, the trainer, the write)"
    )
    day = dt.date.today() - dt.timedelta(days=1)
    today = list(Paper.objects.filter(announced_on=day).only(*planning.PAPER_FIELDS))
    pool = pools.candidate_pool(today, {})
    deliveries = [_fake_delivery(pk) for pk in chosen]
    by_subscriber = profiles.chunk_profiles(deliveries, feedback=False)
    models = pools.readers(deliveries)
    space_vectors = pools.vectors(
        {p.pk for p in today} | {pk for r in models.values() for pk in r.liked}, next(iter(models.values()))
    )
    from newsletter.space import Space

    space = Space(space_vectors, pool.by_id)
    for label, learned in (("rules only", False), ("learned", True)):
        started = time.perf_counter()
        for delivery in deliveries:
            reader = models.get(delivery.subscriber_id) if learned else None
            profile = pool.effective(by_subscriber[delivery.subscriber_id])
            selection.select(profile, pool, reader=reader, space=space if learned else None)
        per = (time.perf_counter() - started) / len(deliveries) * 1e6
        print(
            f"ranking one digest    {label:<11} {per:,.0f} µs (selection and why-lines, {len(today)} papers)"
        )
    _svm_costs(chosen[:20], today)
    del vectors


def _fake_delivery(subscriber_id: int):  # type: ignore[no-untyped-def]
    from newsletter.models import Delivery
    from subscribers.models import Subscriber

    return Delivery(subscriber=Subscriber.objects.get(pk=subscriber_id), subscriber_id=subscriber_id)


def _svm_costs(subscriber_ids: list[int], today: list) -> None:  # type: ignore[type-arg]
    """arxiv-sanity-lite's way: tf-idf (1-2 grams) of the catalogue, a LinearSVC per reader (C=0.01)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from papers.models import Paper
    from subscribers.models import Feedback

    rows = list(Paper.objects.order_by("pk").values_list("pk", "title", "abstract"))
    row_of = {pk: n for n, (pk, _, _) in enumerate(rows)}
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english", max_features=50_000)
    x = tfidf.fit_transform([f"{title} {abstract}" for _, title, abstract in rows])
    today_rows = x[[row_of[p.pk] for p in today]]
    train_costs, rank_costs = [], []
    for subscriber_id in subscriber_ids:
        liked = Feedback.objects.filter(subscriber_id=subscriber_id, value=1).values_list(
            "paper_id", flat=True
        )
        y = np.zeros(x.shape[0])
        y[[row_of[pk] for pk in liked]] = 1
        if not y.any():
            continue
        started = time.perf_counter()
        svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01).fit(x, y)
        train_costs.append(time.perf_counter() - started)
        started = time.perf_counter()
        np.argsort(-svm.decision_function(today_rows))[:10]
        rank_costs.append(time.perf_counter() - started)
    print(
        f"arxiv-sanity-lite SVM training one reader {statistics.mean(train_costs) * 1000:.1f} ms, "
        f"ranking one digest {statistics.mean(rank_costs) * 1e6:,.0f} µs "
        f"(tf-idf of {x.shape[0]:,} papers, {x.shape[1]:,} terms; LinearSVC C=0.01 on all of them)"
    )
