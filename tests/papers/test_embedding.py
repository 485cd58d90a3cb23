"""Paper vectors: embedded after ingest, refitted as new versions that never mix with old ones."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from papers import embedding, services, vectors
from papers.feeds.entries import ARXIV_RSS, PaperEntry, ParsedFeed
from papers.models import EmbeddingModel, Paper, PaperVector
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

TEXTS = [
    "Dense passage retrieval for question answering with a dual encoder",
    "Speech recognition for low-resource languages with self-training",
    "Neural machine translation between distant languages",
    "Retrieval-augmented generation reduces hallucination in question answering",
]


def test_the_embedder_gives_unit_vectors_and_survives_a_round_trip_through_bytes() -> None:
    fitted = embedding.TfidfEmbedder()
    fitted.fit(TEXTS)
    loaded = embedding.TfidfEmbedder.loads(fitted.dumps())
    vectors_ = loaded.transform(["question answering by retrieval"])
    assert vectors_.dtype == np.float32 and vectors_.shape == (1, fitted.dim)
    assert np.allclose(np.linalg.norm(vectors_, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors_, fitted.transform(["question answering by retrieval"]))


def test_it_refuses_a_catalogue_with_nothing_to_learn() -> None:
    with pytest.raises(embedding.EmbeddingError):
        embedding.TfidfEmbedder().fit(["the"])
    with pytest.raises(CommandError, match="cannot fit the embedder"):
        call_command("refit_embedding")


def store(*entries: tuple[str, str], capture) -> None:  # type: ignore[no-untyped-def]
    parsed = ParsedFeed(format=ARXIV_RSS, entries=[PaperEntry(arxiv_id=i, title=t) for i, t in entries])
    with capture(execute=True):
        services.papers_store(parsed=parsed, source=ARXIV_RSS)


def test_papers_new_to_the_catalogue_are_embedded_once_ingest_commits(
    django_capture_on_commit_callbacks, settings
) -> None:
    settings.PAPER_EMBEDDING_REFIT_GROWTH = 0.5  # one paper more than four is not enough to refit
    parsed = ParsedFeed(
        format=ARXIV_RSS,
        entries=[PaperEntry(arxiv_id=f"2611.0000{n}", title=text) for n, text in enumerate(TEXTS)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.papers_store(parsed=parsed, source=ARXIV_RSS)
    model = EmbeddingModel.objects.get(active=True)  # the first papers fit the first version
    assert PaperVector.objects.filter(model=model).count() == 4
    later = ParsedFeed(
        format=ARXIV_RSS, entries=[PaperEntry(arxiv_id="2611.00009", title="Question answering")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.papers_store(parsed=later, source=ARXIV_RSS)
    paper = Paper.objects.get(arxiv_id="2611.00009")
    assert PaperVector.objects.filter(model=model, paper=paper).exists()
    assert EmbeddingModel.objects.count() == 1  # transformed with the active version, not refitted


def test_a_refit_is_a_new_version_and_only_the_previous_one_is_kept() -> None:
    for text in TEXTS:
        PaperFactory(title=text)
    first = vectors.embedding_refit()
    second = vectors.embedding_refit()
    third = vectors.embedding_refit()
    assert list(EmbeddingModel.objects.filter(active=True)) == [third]
    assert set(EmbeddingModel.objects.values_list("pk", flat=True)) == {second.pk, third.pk}
    assert not PaperVector.objects.filter(model_id=first.pk).exists()
    assert PaperVector.objects.filter(model=third).count() == len(TEXTS)
    assert vectors.centre_of(third).shape == (third.dim,)


def test_a_catalogue_that_outgrows_its_embedder_refits_it_as_papers_arrive(
    django_capture_on_commit_callbacks, settings
) -> None:
    """Without waiting for beat's nightly refit, a young catalogue's new words reach the vectors."""
    settings.PAPER_EMBEDDING_REFIT_GROWTH = 0.25
    capture = django_capture_on_commit_callbacks
    store(*[(f"2611.0000{n}", text) for n, text in enumerate(TEXTS)], capture=capture)
    first = EmbeddingModel.objects.get(active=True)
    assert first.papers == 4

    store(("2611.00011", "Protein folding with diffusion models"), capture=capture)  # 5 >= 4 * 1.25
    second = EmbeddingModel.objects.get(active=True)
    assert second.pk != first.pk and second.papers == 5
    assert PaperVector.objects.filter(model=second).count() == 5
    folding = embedding.TfidfEmbedder.loads(bytes(second.state)).transform(["protein folding"])
    assert np.linalg.norm(folding) > 0  # the new words are in the new vocabulary

    store(("2611.00012", "Question answering over tables"), capture=capture)  # 6 < 5 * 1.25
    assert EmbeddingModel.objects.get(active=True).pk == second.pk
    assert PaperVector.objects.filter(model=second).count() == 6


def test_refitting_as_papers_arrive_can_be_left_to_the_schedule(
    django_capture_on_commit_callbacks, settings
) -> None:
    settings.PAPER_EMBEDDING_REFIT_GROWTH = 0
    capture = django_capture_on_commit_callbacks
    store(*[(f"2611.0000{n}", text) for n, text in enumerate(TEXTS)], capture=capture)
    store(*[(f"2611.0002{n}", text + " again") for n, text in enumerate(TEXTS)], capture=capture)
    assert EmbeddingModel.objects.count() == 1
    assert PaperVector.objects.count() == 8
