"""Learned relevance end to end: feedback trains a reader's model, which orders and explains their digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from newsletter import dispatch, planning, pools
from newsletter.models import Delivery, DeliveryItem
from papers import vectors
from papers.models import Paper
from subscribers import services, training
from subscribers.models import ReaderModel, Subscriber
from subscribers.preferences import Preferences
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory
from tests.newsletter.conftest import DAY, PARIS_SEVEN, dispatch_and_send

pytestmark = pytest.mark.django_db

THEMES = {
    "retrieval": (
        "Dense passage retrieval {n} for open-domain question answering",
        "We index passages with a dual encoder, retrieve evidence for each question and rerank the "
        "retrieved passages; retrieval recall and answer accuracy improve on open-domain benchmarks.",
    ),
    "speech": (
        "Speech recognition {n} for low-resource languages",
        "An acoustic model trained on untranscribed audio lowers the word error rate of automatic "
        "speech recognition; phoneme units and self-training help low-resource speech.",
    ),
    "translation": (
        "Neural machine translation {n} between distant languages",
        "A bilingual encoder-decoder translates sentences between distant language pairs; back-"
        "translation and parallel corpora raise BLEU scores of the translation system.",
    ),
}
OLD = DAY - dt.timedelta(days=30)  # rated long ago, in earlier digests


def make_papers(day: dt.date, per_theme: int, *, prefix: str, category: str = "cs.CL") -> dict[str, list]:
    made: dict[str, list] = {}
    for theme, (title, abstract) in THEMES.items():
        made[theme] = [
            PaperFactory(
                title=title.format(n=f"{prefix}{n}"),
                abstract=abstract,
                categories=[category],
                primary_category=category,
                announced_on=day,
            )
            for n in range(per_theme)
        ]
    return made


@pytest.fixture
def llm():
    return TopicFactory(slug="t-llm", name="Language models", categories=["cs.CL"])


@pytest.fixture
def catalogue() -> dict[str, dict[str, list]]:
    """Three themes: papers rated in earlier digests, and four of each announced on DAY."""
    catalogue = {"old": make_papers(OLD, 2, prefix="old-"), "today": make_papers(DAY, 4, prefix="new-")}
    vectors.embedding_refit()
    return catalogue


def rate(subscriber: Subscriber, paper: Paper, value: int, capture) -> None:
    """Rate through the service, as the feedback page does; the retrain task runs at commit."""
    with capture(execute=True):
        services.feedback_record(subscriber=subscriber, paper=paper, value=value)


def digest_titles() -> list[str]:
    return list(DeliveryItem.objects.order_by("position").values_list("paper__title", flat=True))


def theme_of(title: str) -> str:
    return next(theme for theme, (pattern, _) in THEMES.items() if pattern.split(" {n}")[0] in title)


def test_it_ranks_a_liked_papers_close_neighbours_first(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    rate(ada, catalogue["old"]["speech"][0], +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    assert [theme_of(t) for t in digest_titles()[:4]] == ["speech"] * 4


def test_it_ranks_a_disliked_papers_close_neighbours_last(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    rate(ada, catalogue["old"]["retrieval"][0], -1, django_capture_on_commit_callbacks)
    rate(ada, catalogue["old"]["translation"][0], +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    themes = [theme_of(t) for t in digest_titles()]
    assert themes[:4] == ["translation"] * 4
    assert "retrieval" not in themes[:8]


def test_the_why_line_names_the_liked_paper_it_refers_to(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    liked = catalogue["old"]["translation"][1]
    rate(ada, liked, +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    top = DeliveryItem.objects.order_by("position").first()
    assert theme_of(top.paper.title) == "translation"
    assert top.why == f"like “{liked.title}” · in Language models"
    assert f"like “{liked.title}”" in mail.outbox[0].body


def test_seeds_given_before_the_first_digest_change_it(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    plain = SubscriberFactory(email="plain@example.org", topics=[llm])
    seeded = SubscriberFactory(email="seeded@example.org", topics=[llm])
    for paper in catalogue["old"]["translation"]:
        rate(seeded, paper, +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)

    def first_four(subscriber: Subscriber) -> list[str]:
        items = DeliveryItem.objects.filter(delivery__subscriber=subscriber).order_by("position")
        return [theme_of(title) for title in items.values_list("paper__title", flat=True)[:4]]

    assert first_four(seeded) == ["translation"] * 4
    assert first_four(plain) == ["retrieval"] * 4  # the rules' order: nothing ranks one theme higher


def test_stated_keywords_are_the_prior_of_a_reader_with_no_ratings(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    request = services.RequestInfo()
    preferences = Preferences.of(ada)
    preferences.keywords = ["acoustic model"]
    with django_capture_on_commit_callbacks(execute=True):
        services.subscriber_update_preferences(subscriber=ada, preferences=preferences, request=request)
    assert ReaderModel.objects.get(subscriber=ada).likes == 0
    dispatch_and_send(PARIS_SEVEN)
    assert [theme_of(t) for t in digest_titles()[:4]] == ["speech"] * 4


def test_a_reader_is_retrained_once_per_transaction(
    llm, catalogue, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    trained: list[int] = []
    original = training.reader_model_train
    monkeypatch.setattr(
        training, "reader_model_train", lambda **kw: trained.append(kw["subscriber_id"]) or original(**kw)
    )
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for paper in catalogue["old"]["speech"]:
            services.feedback_record(subscriber=ada, paper=paper, value=1)
        services.feedback_reset(subscriber=ada, request=services.RequestInfo())
    assert trained == [ada.pk]
    assert ReaderModel.objects.get(subscriber=ada).likes == 0  # trained on what was committed


@pytest.mark.django_db(transaction=True)  # each write commits, as in production
def test_an_undone_like_is_forgotten_by_the_model(llm, catalogue) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    liked = catalogue["old"]["speech"][0]
    services.feedback_record(subscriber=ada, paper=liked, value=1)
    assert ReaderModel.objects.get(subscriber=ada).liked == [liked.pk]
    assert services.feedback_remove(subscriber=ada, paper=liked)
    model = ReaderModel.objects.get(subscriber=ada)
    assert model.likes == 0 and model.liked == []  # no "like <its title>" why-line can name it now


def test_a_paper_outside_the_rules_comes_as_a_marked_discovery(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    more = make_papers(DAY, 4, prefix="more-")  # a day's worth of other papers the rules let in
    retrieval = [*catalogue["today"]["retrieval"], *more["retrieval"]]
    Paper.objects.filter(pk__in=[p.pk for p in retrieval]).delete()
    vectors.papers_embed(arxiv_ids=[p.arxiv_id for theme in ("speech", "translation") for p in more[theme]])
    outside = PaperFactory(
        title="Dense passage retrieval for open-domain question answering, again",
        abstract=THEMES["retrieval"][1],
        categories=["cs.IR"],
        primary_category="cs.IR",
        announced_on=DAY,
    )
    vectors.papers_embed(arxiv_ids=[outside.arxiv_id])
    liked = catalogue["old"]["retrieval"][0]
    rate(ada, liked, +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    item = DeliveryItem.objects.get(paper=outside)
    assert item.why == f"outside your topics: like “{liked.title}”"
    assert f"outside your topics: like “{liked.title}”" in mail.outbox[0].body


def test_an_excluded_keyword_still_vetoes_what_the_model_likes(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm], excluded_keywords=["acoustic"])
    rate(ada, catalogue["old"]["speech"][0], +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    assert "speech" not in {theme_of(t) for t in digest_titles()}


def test_rules_ranking_leaves_the_learned_model_out(
    llm, catalogue, django_capture_on_commit_callbacks, settings
) -> None:
    settings.DIGEST_RANKING = "rules"
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    rate(ada, catalogue["old"]["speech"][0], +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    assert [theme_of(t) for t in digest_titles()[:4]] != ["speech"] * 4
    assert not any("like “" in why for why in DeliveryItem.objects.values_list("why", flat=True))


def test_a_model_of_an_older_embedding_version_is_not_used(
    llm, catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    rate(ada, catalogue["old"]["speech"][0], +1, django_capture_on_commit_callbacks)
    old_version = ReaderModel.objects.get(subscriber=ada).embedding_id
    vectors.embedding_refit()  # readers are retrained after it by a task: not run here
    assert ReaderModel.objects.get(subscriber=ada).embedding_id == old_version
    deliveries = planning.deliveries_for_chunk(
        [pk for chunk in dispatch.digests_dispatch(now=PARIS_SEVEN).chunks for pk in chunk]
    )
    assert pools.readers(deliveries) == {}
    training.readers_retrain_stale()
    assert ReaderModel.objects.get(subscriber=ada).embedding.active


def _queries_with_models(count: int, llm, catalogue, django_assert_num_queries, expected: int) -> None:
    for n in range(count):
        reader = SubscriberFactory(email=f"m{count}-{n}@example.org", topics=[llm], keywords=["speech"])
        services.feedback_record(subscriber=reader, paper=catalogue["old"]["speech"][0], value=1)
        training.reader_model_train(subscriber_id=reader.pk)
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    ids = [pk for chunk in result.chunks for pk in chunk]
    with django_assert_num_queries(expected):
        plan = planning.chunk_plan(deliveries=planning.deliveries_for_chunk(ids))
    assert len(plan.planned) == count and all(p.picks for p in plan.planned)


def test_planning_a_chunk_with_learned_models_takes_the_same_queries_for_one_or_fifty(
    llm, catalogue, django_assert_num_queries
) -> None:
    _queries_with_models(1, llm, catalogue, django_assert_num_queries, expected=13)
    Delivery.objects.all().delete()
    Subscriber.objects.all().delete()
    _queries_with_models(50, llm, catalogue, django_assert_num_queries, expected=13)


def test_it_fills_a_narrow_readers_digest_with_marked_discoveries(
    catalogue, django_capture_on_commit_callbacks
) -> None:
    ada = SubscriberFactory(email="ada@example.org", keywords=["glossaries"])
    only = PaperFactory(
        title="Translating idioms with glossaries",
        abstract="Glossaries of idioms guide a machine translation system between distant languages.",
        categories=["cs.CL"],
        primary_category="cs.CL",
        announced_on=DAY,
    )
    vectors.papers_embed(arxiv_ids=[only.arxiv_id])
    liked = catalogue["old"]["translation"][0]
    rate(ada, liked, +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    items = list(DeliveryItem.objects.order_by("position"))
    filled = {item.paper_id: item.why for item in items if item.paper_id != only.pk}
    # The rules let in one paper; the model fills the digest with what it vouches for, and only that.
    assert only.pk in {item.paper_id for item in items}
    assert set(filled) == {p.pk for p in catalogue["today"]["translation"]}
    assert set(filled.values()) == {f"outside your topics: like “{liked.title}”"}


def test_it_never_holds_back_what_the_model_vouches_for_to_cap_a_category(
    catalogue, django_capture_on_commit_callbacks
) -> None:
    both = TopicFactory(slug="t-both", name="Language and retrieval", categories=["cs.CL", "cs.IR"])
    ada = SubscriberFactory(email="ada@example.org", topics=[both])
    more = make_papers(DAY, 4, prefix="more-")
    ir = make_papers(DAY, 4, prefix="ir-", category="cs.IR")
    Paper.objects.filter(pk__in=[p.pk for p in ir["translation"]]).delete()
    embedded = [*more.values(), ir["retrieval"], ir["speech"]]
    vectors.papers_embed(arxiv_ids=[p.arxiv_id for papers in embedded for p in papers])
    rate(ada, catalogue["old"]["translation"][0], +1, django_capture_on_commit_callbacks)
    dispatch_and_send(PARIS_SEVEN)
    themes = [theme_of(t) for t in digest_titles()]
    # All eight are in cs.CL: the one-category cap (four of ten) would have held four back.
    assert themes[:8] == ["translation"] * 8
