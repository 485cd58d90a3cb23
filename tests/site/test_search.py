"""Search: PostgreSQL full-text search with websearch syntax, filters, paging, hostile input, and the
pure reading of a query that saved searches and the SQLite fallback use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from papers import search, selectors, vectors
from papers.models import Paper
from tests.factories import PaperFactory
from tests.papers.catalogue import themed_catalogue

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
TUE = dt.date(2026, 11, 24)


@pytest.fixture
def catalogue() -> list[Paper]:
    return [
        PaperFactory(
            title="Large language models learn to reason",
            abstract="We study reasoning in language models.",
            author_names=["Ada Lovelace"],
            categories=["cs.CL"],
            announced_on=TUE,
        ),
        PaperFactory(
            title="Robots that plan",
            abstract="Planning for robotics with a language model.",
            author_names=["Grace Hopper"],
            categories=["cs.RO", "cs.AI"],
            announced_on=TUE - dt.timedelta(days=30),
        ),
        PaperFactory(
            title="State space models for audio",
            abstract="A state space model reads long audio.",
            author_names=["Alan Turing"],
            categories=["eess.AS"],
            announced_on=TUE - dt.timedelta(days=60),
        ),
        PaperFactory(
            title="Reasoning about state",
            abstract="Time and space are studied separately here.",
            author_names=["Ada Lovelace", "Emmy Noether"],
            categories=["cs.LO"],
            announced_on=TUE - dt.timedelta(days=90),
        ),
    ]


def titles(client, query: str) -> list[str]:
    response = client.get("/search/", {"q": query} if isinstance(query, str) else query)
    assert response.status_code == 200
    papers = response.context["results"].papers if response.context["results"] else []
    return [paper.title for paper in papers]


def test_it_finds_words_in_any_form(client, catalogue) -> None:
    assert sorted(titles(client, "reasoning")) == [
        "Large language models learn to reason",
        "Reasoning about state",
    ]
    assert titles(client, "model language") == ["Large language models learn to reason", "Robots that plan"]


def test_a_match_in_the_title_ranks_above_one_in_the_abstract(client) -> None:
    PaperFactory(title="A study of things", abstract="Mentions transformers once.", announced_on=TUE)
    PaperFactory(title="Transformers", abstract="Nothing else.", announced_on=TUE - dt.timedelta(days=9))
    assert titles(client, "transformer") == ["Transformers", "A study of things"]


def test_it_reads_phrases_exclusions_and_or(client, catalogue) -> None:
    assert titles(client, '"state space"') == ["State space models for audio"]
    assert titles(client, "language -robotics") == ["Large language models learn to reason"]
    assert sorted(titles(client, "audio or robots")) == ["Robots that plan", "State space models for audio"]


def test_it_searches_authors(client, catalogue) -> None:
    assert sorted(titles(client, "Lovelace")) == [
        "Large language models learn to reason",
        "Reasoning about state",
    ]


def test_it_filters_by_category_and_dates(client, catalogue) -> None:
    assert titles(client, {"q": "language", "category": "cs.RO"}) == ["Robots that plan"]
    assert titles(client, {"q": "model", "date_from": "2026-11-01"}) == [
        "Large language models learn to reason"
    ]
    assert titles(client, {"q": "model", "date_to": "2026-09-30"}) == ["State space models for audio"]


def test_results_have_the_same_cards_a_feed_and_the_email_me_button(client, catalogue) -> None:
    html = client.get("/search/", {"q": "reasoning", "category": "cs.LO"}).content.decode()
    assert 'class="paper-card' in html
    assert 'href="/search/save/?q=reasoning&amp;category=cs.LO"' in html
    assert "Email me new papers matching this search" in html
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/search/feed/?q=reasoning&amp;category=cs.LO"' in html


def test_it_pages_results(client, settings) -> None:
    settings.SITE_PAGE_SIZE = 2
    for n in range(5):
        PaperFactory(title=f"Diffusion paper {n}", announced_on=TUE - dt.timedelta(days=n))
    first = client.get("/search/", {"q": "diffusion"}).content.decode()
    assert 'href="?q=diffusion&amp;page=2"' in first
    last = client.get("/search/", {"q": "diffusion", "page": "3"})
    assert len(last.context["results"].papers) == 1 and not last.context["results"].has_next


@pytest.mark.parametrize(
    "query",
    ["the of and", "!!!", "'\"):*&|!<>", "-", '"', "or or or", "a" * 200, "DROP TABLE papers_paper; --"],
)
def test_a_hostile_or_empty_query_gets_a_page_not_an_error(client, catalogue, query) -> None:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert Paper.objects.count() == 4


def test_an_overlong_or_binary_query_is_refused_clearly(client, catalogue) -> None:
    long = client.get("/search/", {"q": "a" * 201})
    assert long.status_code == 400 and "Keep a search under 200 characters" in long.content.decode()
    assert client.get("/search/", {"q": "nul\x00byte"}).status_code == 400
    bad_dates = client.get("/search/", {"q": "model", "date_from": "2026-12-01", "date_to": "2026-01-01"})
    assert bad_dates.status_code == 400 and "comes before its start" in bad_dates.content.decode()
    assert client.get("/search/", {"q": "model", "category": "cs.NOPE"}).status_code == 400


def test_a_stop_word_query_says_what_to_type(client, catalogue) -> None:
    assert "Nothing to search for" in client.get("/search/", {"q": "the of"}).content.decode()


def test_the_pure_reading_agrees_with_postgresql(catalogue) -> None:
    """Saved searches in digests and the SQLite fallback find what the site's search finds."""
    queries = [
        "reasoning",
        "model language",
        '"state space"',
        "language -robotics",
        "audio or robots",
        "Lovelace",
        "studies",
        '"space model" or plan',
        "models -audio -robots",
    ]
    for query in queries:
        in_postgres = {
            p.pk for p in selectors.search_papers(query=query, filters=selectors.SearchFilters()).papers
        }
        in_python = {p.pk for p in catalogue if search.paper_matches_search(p, query=query)}
        assert in_python == in_postgres, query


def test_the_sqlite_fallback_ranks_the_same_matches(catalogue) -> None:
    parsed = search.parse_query("reasoning -robots")
    found = selectors._ranked_in_python(Paper.objects.all(), parsed, 1)
    assert sorted(p.title for p in found.papers) == [
        "Large language models learn to reason",
        "Reasoning about state",
    ]
    audio = selectors._ranked_in_python(Paper.objects.all(), search.parse_query("audio"), 1)
    assert [p.title for p in audio.papers] == ["State space models for audio"]


def test_a_saved_search_matches_as_the_site_does(catalogue) -> None:
    robots = catalogue[1]
    assert search.paper_matches_search(robots, query="planning", category="cs.AI")
    assert not search.paper_matches_search(robots, query="planning", category="cs.CL")
    assert not search.paper_matches_search(robots, query="")


def test_the_search_and_day_lists_read_through_their_indexes() -> None:
    """With sequential scans priced out, each list query reads an index in its order: no sort of them all."""
    PaperFactory.create_batch(300, announced_on=TUE, upvotes=None)
    PaperFactory(title="Zebra stripes", categories=["q-bio.PE"])
    for n in range(300):
        PaperFactory(announced_on=TUE - dt.timedelta(days=1 + n % 20), upvotes=n % 7 or None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE papers_paper")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = {}
        for name, queryset in {
            "day": Paper.objects.filter(hidden=False, announced_on=TUE).order_by(*selectors.DAY_ORDER)[:31],
            "latest": Paper.objects.filter(hidden=False).values("announced_on").order_by("-announced_on")[:1],
            "trending": Paper.objects.filter(
                hidden=False,
                upvotes__isnull=False,
                upvotes__gt=0,
                announced_on__range=(TUE - dt.timedelta(6), TUE),
            ).order_by("-upvotes", "-arxiv_id")[:50],
            "search": selectors._ranked_postgres(Paper.objects.all(), "zebra")[:31],
            "category": Paper.objects.filter(categories__contains=["q-bio.PE"])[:31],
        }.items():
            plans[name] = queryset.explain()
    assert "paper_day_idx" in plans["day"] and "Sort" not in plans["day"], plans["day"]
    assert "Index" in plans["latest"] and "Sort" not in plans["latest"]
    # A period's upvoted papers are sorted (a bounded few), read through an index by day.
    assert "Index" in plans["trending"] and "Seq Scan" not in plans["trending"], plans["trending"]
    assert "paper_search_idx" in plans["search"], plans["search"]
    assert "paper_categories_idx" in plans["category"], plans["category"]


def test_with_relevance_vectors_a_querys_closest_papers_by_meaning_rise(
    client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PAPER_EMBEDDING_DIMENSIONS = 4  # four themes: vectors say what a paper is about
    themed_catalogue()
    decoy = PaperFactory(
        title="Folding proteins at scale",
        abstract="We predict how amino acid sequences fold into protein structure, residue by residue, "
        "and design protein backbones whose folded structure binds ligands; the amino acid contacts "
        "of each protein pocket are scored, unlike speculative decoding, by the folded structure.",
        categories=["cs.LG"],
        announced_on=TUE,
    )
    self_drafting = "Accelerating large model generation with self-drafting"
    before = titles(client, "speculative decoding")
    assert before.index(decoy.title) < before.index(self_drafting)
    with django_capture_on_commit_callbacks(execute=True):
        vectors.embedding_refit()  # its signal makes the cached search page stale
    after = titles(client, "speculative decoding")
    assert sorted(after) == sorted(before) and after[-1] == decoy.title
