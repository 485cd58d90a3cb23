"""A small world for digest tests: announced papers, topics, subscribers, and a clock."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter import dispatch, sending
from papers.models import Paper
from tests.factories import PaperFactory, TopicFactory

DAY = dt.date(2026, 11, 24)  # a Tuesday announcement
# 07:00 in Paris on the day after the announcement.
PARIS_SEVEN = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def llm():
    return TopicFactory(
        slug="t-llm", name="Language models", categories=["cs.CL"], include_keywords=["language model"]
    )


@pytest.fixture
def papers() -> list[Paper]:
    """Five papers announced on DAY, and one older one."""
    made = [
        PaperFactory(
            arxiv_id="2611.00001",
            title="Reasoning with verifiers",
            categories=["cs.CL"],
            primary_category="cs.CL",
            announced_on=DAY,
            upvotes=142,
            author_names=["José Ramírez", "Yann LeCun"],
        ),
        PaperFactory(
            arxiv_id="2611.00002",
            title="Parsing at scale",
            categories=["cs.CL"],
            primary_category="cs.CL",
            announced_on=DAY,
            upvotes=12,
        ),
        PaperFactory(
            arxiv_id="2611.00003",
            title="Robot hands",
            categories=["cs.RO"],
            primary_category="cs.RO",
            announced_on=DAY,
        ),
        PaperFactory(
            arxiv_id="2611.00004",
            title="Tokenizers revisited",
            categories=["cs.CL"],
            primary_category="cs.CL",
            announced_on=DAY,
        ),
        PaperFactory(
            arxiv_id="2611.00005",
            title="Vision transformers",
            categories=["cs.CV"],
            primary_category="cs.CV",
            announced_on=DAY,
        ),
        PaperFactory(
            arxiv_id="2611.00006",
            title="An older language model",
            categories=["cs.CL"],
            primary_category="cs.CL",
            announced_on=DAY - dt.timedelta(days=8),
        ),
    ]
    return made


def dispatch_and_send(when: dt.datetime = PARIS_SEVEN) -> sending.ChunkResult | Exception:
    """Dispatch what is due at ``when`` and send it as one chunk; a transient failure is returned."""
    result = dispatch.digests_dispatch(now=when)
    try:
        return sending.chunk_send(delivery_ids=[pk for chunk in result.chunks for pk in chunk], now=when)
    except sending.TransientSendError as error:
        return error
