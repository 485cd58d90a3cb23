"""Similar papers for a paper's page: its nearest neighbours by relevance vector, or by shared title terms.

With an active embedding model and a vector for the paper, the neighbours are
the closest papers by cosine among bounded candidates read through indexes;
otherwise (before the first fit, or a paper ingested a moment ago and not
embedded yet) the papers sharing its title terms, keywords and primary category.
"""

from __future__ import annotations

import numpy as np
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F

from papers import search, vectors
from papers.models import EmbeddingModel, Paper
from papers.selectors import CARD_FIELDS, SearchFilters, filtered, in_any_category, visible_papers

# Words so common in paper titles that sharing them says nothing.
_GENERIC = frozenset(
    search.stems(
        "model models learning learn based using towards toward via approach method methods new study "
        "analysis data deep neural network networks large efficient framework task tasks paper results "
        "improving improved system systems"
    )
)
SIMILAR_TERMS = 8


def similar_terms(paper: Paper) -> list[str]:
    """Return the stems a similar paper should share: its title's and AI keywords', less the generic."""
    text = " ".join([paper.title, *(str(k) for k in (paper.ai_keywords or [])[:8])])
    terms = [s for s in dict.fromkeys(search.stems(text)) if len(s) > 2 and s not in _GENERIC]
    return terms[:SIMILAR_TERMS]


# Bounds on the candidates whose vectors a paper page compares (see ``_nearest_papers``).
SIMILAR_CANDIDATES = 1000
SIMILAR_TERM_CANDIDATES = 200
# Below this cosine a paper is not "similar", however few others there are.
SIMILAR_MIN_COSINE = 0.05


def similar_papers(paper: Paper, limit: int = 6) -> list[Paper]:
    """Return up to ``limit`` papers most like ``paper``, closest first.

    With an active embedding model and a vector for ``paper``, they are its
    nearest neighbours by cosine of the relevance vectors; otherwise (before
    the first fit, or a paper ingested a moment ago and not embedded yet)
    the papers sharing its title terms, keywords and primary category.
    """
    model = vectors.active_model()
    if model is not None:
        near = _nearest_papers(paper, model=model, limit=limit)
        if near is not None:
            return near
    return _similar_by_terms(paper, limit)


def _nearest_papers(paper: Paper, *, model: EmbeddingModel, limit: int) -> list[Paper] | None:
    """Return the bounded candidates closest to ``paper`` by cosine; None when ``paper`` has no vector.

    The candidates, not the catalogue: the newest SIMILAR_CANDIDATES papers
    sharing one of its categories (read in date order through an index until
    that many are found) and, on PostgreSQL, SIMILAR_TERM_CANDIDATES papers
    sharing two of its title terms anywhere (paper_search_idx, unranked:
    ranking every match of a common term is slow on a large catalogue), so an
    older or cross-listed neighbour is not missed. That bounds the vectors
    read to a few hundred kilobytes, paid when the page is rendered and then
    cached. A per-process matrix of every vector would instead hold the whole
    catalogue's vectors in each web worker, reload on every refit and be one
    more cache to keep in step with ingest; it would only pay if paper pages
    were rendered far more often than ingest changes them
    (benchmarks/RESULTS.md has the figures).
    """
    own = vectors.vectors_for(model_id=model.pk, paper_ids=[paper.pk]).get(paper.pk)
    if own is None:
        return None
    others = visible_papers().exclude(pk=paper.pk)
    near = others.filter(in_any_category(paper.categories or [paper.primary_category]))
    ids = list(near.order_by("-announced_on").values_list("pk", flat=True)[:SIMILAR_CANDIDATES])
    if connection.vendor == "postgresql" and (query := _terms_query(paper)) is not None:
        seen = set(ids)
        sharing = others.filter(search_vector=query).values_list("pk", flat=True)[:SIMILAR_TERM_CANDIDATES]
        ids += [pk for pk in sharing if pk not in seen]
    candidates = vectors.vectors_for(model_id=model.pk, paper_ids=ids)
    nearest = _closest(own, {pk: candidates[pk] for pk in ids if pk in candidates}, limit=limit)
    cards = visible_papers().only(*CARD_FIELDS).in_bulk(nearest)
    return [cards[pk] for pk in nearest if pk in cards]


def _closest(target: np.ndarray, candidates: dict[int, np.ndarray], *, limit: int) -> list[int]:
    """Return the ids of up to ``limit`` candidates with the highest cosine to ``target`` (unit vectors).

    Ties keep the candidates' order (the newest first); none below SIMILAR_MIN_COSINE.
    """
    if not candidates:
        return []
    ids = list(candidates)
    cosines = np.stack([candidates[pk] for pk in ids]) @ target
    order = np.argsort(-cosines, kind="stable")[:limit]
    return [ids[i] for i in order if cosines[i] >= SIMILAR_MIN_COSINE]


def _terms_query(paper: Paper) -> SearchQuery | None:
    """Return the full-text query of papers sharing two of ``paper``'s title terms (None without terms).

    Two of the terms, not one: common words would otherwise bring thousands to rank.
    """
    terms = similar_terms(paper)
    if not terms:
        return None
    pairs = [f"({a} & {b})" for i, a in enumerate(terms) for b in terms[i + 1 :]] or terms
    return SearchQuery(" | ".join(pairs), search_type="raw", config="simple")


def _similar_by_terms(paper: Paper, limit: int) -> list[Paper]:
    """Return up to ``limit`` papers sharing ``paper``'s title terms, keywords and primary category."""
    candidates = visible_papers().exclude(pk=paper.pk)
    if paper.primary_category:
        candidates = filtered(candidates, SearchFilters(category=paper.primary_category))
    if connection.vendor == "postgresql":
        query = _terms_query(paper)
        if query is None:
            return []
        return list(
            candidates.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-announced_on")
            .only(*CARD_FIELDS)[:limit]
        )
    wanted = set(similar_terms(paper))
    if not wanted:
        return []
    pool = list(candidates.order_by("-announced_on", "-pk").only(*CARD_FIELDS)[:500])
    scored = [(len(wanted & set(search.document_stems(p))), p) for p in pool]
    enough = min(2, len(wanted))
    return [p for hits, p in sorted(scored, key=lambda pair: -pair[0]) if hits >= enough][:limit]
