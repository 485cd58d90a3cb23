"""Papers that arrive after a reader's digest, or catch on later, reach them in the next one, once."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter.models import DeliveryItem
from papers import services
from papers.feeds.entries import HF_JSON, PaperEntry, ParsedFeed
from papers.models import Paper
from tests.factories import PaperFactory, SubscriberFactory
from tests.newsletter.conftest import DAY, PARIS_SEVEN, dispatch_and_send

pytestmark = pytest.mark.django_db
NEXT_MORNING = PARIS_SEVEN + dt.timedelta(days=1)


def sent_titles(subscriber) -> list[str]:  # type: ignore[no-untyped-def]
    items = DeliveryItem.objects.filter(delivery__subscriber=subscriber, delivery__state="sent")
    return list(items.values_list("paper__title", flat=True))


def test_a_paper_first_seen_after_the_digest_arrives_in_the_next_one_once(llm, papers) -> None:
    ada = SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send(PARIS_SEVEN)
    # Hugging Face lists a paper of the same announcement day in the afternoon.
    PaperFactory(
        title="A late language model paper",
        categories=["cs.CL"],
        announced_on=DAY,
        first_seen_at=PARIS_SEVEN + dt.timedelta(hours=6),
    )
    dispatch_and_send(NEXT_MORNING)
    dispatch_and_send(NEXT_MORNING + dt.timedelta(days=1))
    assert sent_titles(ada).count("A late language model paper") == 1
    assert ada.deliveries.order_by("edition__date").last().skip_reason == (
        "no papers announced since the previous digest"
    )


def _hf_day(upvotes: int) -> ParsedFeed:
    entry = PaperEntry(
        arxiv_id="2611.00001", title="Reasoning with verifiers", upvotes=upvotes, hf_daily_on=DAY
    )
    return ParsedFeed(format=HF_JSON, entries=[entry])


def test_a_paper_that_starts_trending_reaches_readers_who_had_its_day_once(llm, papers, settings) -> None:
    settings.PAPERS_TRENDING_UPVOTES = 100
    bob = SubscriberFactory(email="bob@example.org", topics=[llm], excluded_keywords=["verifiers"])
    Paper.objects.filter(arxiv_id="2611.00001").update(upvotes=3)
    dispatch_and_send(PARIS_SEVEN)
    assert "Reasoning with verifiers" not in sent_titles(bob)
    bob.excluded_keywords = []
    bob.save()
    services.papers_store(
        parsed=_hf_day(upvotes=250), source=HF_JSON, now=PARIS_SEVEN + dt.timedelta(hours=9)
    )
    assert Paper.objects.get(arxiv_id="2611.00001").trending_since == PARIS_SEVEN + dt.timedelta(hours=9)
    dispatch_and_send(NEXT_MORNING)
    dispatch_and_send(NEXT_MORNING + dt.timedelta(days=1))
    assert sent_titles(bob).count("Reasoning with verifiers") == 1
    item = DeliveryItem.objects.get(paper__arxiv_id="2611.00001")
    assert item.why == "in Language models · trending: 250 upvotes"


def test_a_paper_already_trending_is_not_news_again(llm, papers, settings) -> None:
    settings.PAPERS_TRENDING_UPVOTES = 100
    services.papers_store(parsed=_hf_day(upvotes=150), source=HF_JSON, now=PARIS_SEVEN)
    first = Paper.objects.get(arxiv_id="2611.00001").trending_since
    services.papers_store(parsed=_hf_day(upvotes=300), source=HF_JSON, now=NEXT_MORNING)
    assert Paper.objects.get(arxiv_id="2611.00001").trending_since == first == PARIS_SEVEN
