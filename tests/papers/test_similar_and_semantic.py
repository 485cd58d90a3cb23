"""Similar papers and search ranking from the relevance vectors: neighbours, bounded reads, fallbacks."""

from __future__ import annotations

import pytest

from papers import selectors, similar, vectors
from papers.models import Paper, PaperVector
from tests.factories import PaperFactory
from tests.papers.catalogue import TUE, themed_catalogue

pytestmark = pytest.mark.django_db
NO_FILTERS = selectors.SearchFilters()


def themes_of(papers: list[Paper], catalogue: dict[str, list[Paper]]) -> list[str]:
    theme_of = {paper.pk: theme for theme, members in catalogue.items() for paper in members}
    return [theme_of.get(paper.pk, "?") for paper in papers]


def test_it_lists_a_papers_neighbours_by_meaning_before_unrelated_ones() -> None:
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    for theme, members in catalogue.items():
        found = similar.similar_papers(members[0], 6)
        seen = themes_of(found, catalogue)
        assert seen and seen[0] == theme, (theme, [p.title for p in found])
        # All of its theme first, then (if any pass the floor) the others.
        assert seen == sorted(seen, key=lambda t: t != theme), (theme, [p.title for p in found])


def test_it_finds_a_neighbour_that_shares_no_title_words() -> None:
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    # "Lookahead verification for low-latency serving" shares no title word with the paper.
    found = [p.title for p in similar.similar_papers(catalogue["decoding"][0], 6)]
    assert "Lookahead verification for low-latency serving" in found
    rule = [p.title for p in similar._similar_by_terms(catalogue["decoding"][0], 6)]
    assert "Lookahead verification for low-latency serving" not in rule


def test_it_leaves_out_hidden_papers_and_the_paper_itself() -> None:
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    paper, hidden = catalogue["proteins"][:2]
    Paper.objects.filter(pk=hidden.pk).update(hidden=True)
    found = similar.similar_papers(paper, 6)
    assert paper not in found and hidden not in found and found


def test_it_falls_back_to_shared_title_terms_without_a_model_or_a_vector() -> None:
    catalogue = themed_catalogue()
    paper = catalogue["decoding"][0]
    rule = similar.similar_papers(paper, 6)
    assert "Draft trees make speculative decoding faster" in [p.title for p in rule]
    model = vectors.embedding_refit()
    PaperVector.objects.filter(model=model, paper=paper).delete()  # ingested a moment ago, not embedded yet
    assert similar.similar_papers(paper, 6) == rule


def test_it_reads_a_bounded_number_of_candidates(monkeypatch) -> None:
    catalogue = themed_catalogue()
    old = PaperFactory(
        title="Speculative decoding for transformer inference, revisited",
        primary_category="cs.LG",
        categories=["cs.LG"],
        announced_on=None,
    )
    vectors.embedding_refit()
    monkeypatch.setattr(similar, "SIMILAR_CANDIDATES", 3)
    monkeypatch.setattr(similar, "SIMILAR_TERM_CANDIDATES", 10)
    read = []
    real = vectors.vectors_for

    def counting(*, model_id, paper_ids):  # type: ignore[no-untyped-def]
        paper_ids = list(paper_ids)
        read.append(len(paper_ids))
        return real(model_id=model_id, paper_ids=paper_ids)

    monkeypatch.setattr(vectors, "vectors_for", counting)
    found = similar.similar_papers(catalogue["decoding"][0], 6)
    # Its own vector, then one read of the newest three of its category and the (few) sharing title terms.
    assert read[0] == 1 and len(read) == 2 and read[1] < 3 + 10
    assert len(found) <= 4
    assert old in found  # not among the newest, but sharing its title terms


def test_its_query_count_does_not_grow_with_the_catalogue(django_assert_max_num_queries) -> None:
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    with django_assert_max_num_queries(6):
        similar.similar_papers(catalogue["robots"][0], 6)
    for n in range(40):
        PaperFactory(title=f"Robot grasping study {n}", categories=["cs.LG"], announced_on=TUE)
    vectors.embedding_refit()
    with django_assert_max_num_queries(6):
        similar.similar_papers(catalogue["robots"][0], 6)


# --- Search -------------------------------------------------------------------------------------------


@pytest.fixture
def decoy(settings) -> Paper:
    """The themed catalogue, then a protein paper naming "speculative decoding" in passing, as the
    self-drafting paper does: full text ranks the two alike, the newer (this one) first.

    Four themes, four dimensions: as in a large catalogue, a paper's vector says what it is about
    rather than which rare words it uses.
    """
    settings.PAPER_EMBEDDING_DIMENSIONS = 4
    themed_catalogue()
    return PaperFactory(
        title="Folding proteins at scale",
        abstract="We predict how amino acid sequences fold into protein structure, residue by residue, "
        "and design protein backbones whose folded structure binds ligands; the amino acid contacts "
        "of each protein pocket are scored, unlike speculative decoding, by the folded structure.",
        primary_category="cs.LG",
        categories=["cs.LG"],
        announced_on=TUE,
    )


def titles(found: selectors.SearchResults | selectors.PaperPage) -> list[str]:
    return [paper.title for paper in found.papers]


def test_a_querys_closest_papers_by_meaning_rise(decoy) -> None:
    self_drafting = "Accelerating large model generation with self-drafting"
    plain = titles(selectors.search_papers(query="speculative decoding", filters=NO_FILTERS))
    assert plain.index(decoy.title) < plain.index(self_drafting)  # full text alone prefers the decoy
    vectors.embedding_refit()
    ranked = titles(selectors.search_papers(query="speculative decoding", filters=NO_FILTERS))
    assert sorted(ranked) == sorted(plain)  # the same matches
    assert ranked.index(self_drafting) < ranked.index(decoy.title)
    assert ranked[-1] == decoy.title


def test_the_sqlite_fallback_ranks_by_meaning_too(decoy) -> None:
    parsed = selectors.search.parse_query("speculative decoding")
    plain = titles(selectors._ranked_in_python(Paper.objects.all(), parsed, 1))
    model = vectors.embedding_refit()
    ranked = titles(
        selectors._ranked_in_python(Paper.objects.all(), parsed, 1, query="speculative decoding", model=model)
    )
    assert sorted(ranked) == sorted(plain) and ranked != plain
    assert ranked[-1] == decoy.title


def test_semantic_ranking_keeps_filters(decoy) -> None:
    decoy.categories = ["q-bio.BM"]
    decoy.save()
    vectors.embedding_refit()
    found = selectors.search_papers(
        query="speculative decoding", filters=selectors.SearchFilters(category="q-bio.BM")
    )
    assert titles(found) == [decoy.title]
    later = selectors.SearchFilters(date_from=TUE.replace(day=25))
    assert titles(selectors.search_papers(query="speculative decoding", filters=later)) == []


def test_a_query_the_model_does_not_know_keeps_the_full_text_order() -> None:
    themed_catalogue()
    PaperFactory(title="Zyxquux one", categories=["cs.LG"], announced_on=TUE)
    PaperFactory(title="Zyxquux two", abstract="zyxquux", categories=["cs.LG"], announced_on=TUE)
    plain = titles(selectors.search_papers(query="zyxquux", filters=NO_FILTERS))
    Paper.objects.filter(title__startswith="Zyxquux").update(title="Something else")  # out of the fit
    Paper.objects.filter(abstract="zyxquux").update(title="Zyxquux two")
    vectors.embedding_refit()
    assert titles(selectors.search_papers(query="zyxquux", filters=NO_FILTERS)) == ["Zyxquux two"]
    assert plain == ["Zyxquux two", "Zyxquux one"]


@pytest.mark.parametrize("window", [3, 4, 5, 7, 50])
def test_pages_past_the_reranked_window_show_every_match_once(settings, monkeypatch, window) -> None:
    settings.SITE_PAGE_SIZE = 2
    monkeypatch.setattr(selectors, "SEMANTIC_WINDOW", window)
    themed_catalogue()
    vectors.embedding_refit()
    shown, page = [], 1
    while True:
        found = selectors.search_papers(query="model", filters=NO_FILTERS, page=page)
        shown += [paper.pk for paper in found.papers]
        if not found.has_next:
            break
        page += 1
    matching = {p.pk for p in selectors.search_papers(query="model", filters=NO_FILTERS).papers}
    assert len(shown) == len(set(shown)) and matching <= set(shown)
    assert (
        len(shown)
        == Paper.objects.filter(search_vector=selectors.SearchQuery("model", config="english")).count()
    )
