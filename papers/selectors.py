"""Reads of the paper catalogue: the site's day, trending, paper and search lists, and the feeds to fetch.

Every list is read through an index in the order it is shown (paper_day_idx,
paper_trending_idx, paper_search_idx, paper_categories_idx): no request sorts
the whole catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Max, Min, Q, QuerySet
from django.db.models.functions import Lower

from papers import search, vectors
from papers.models import EmbeddingModel, Feed, Paper
from papers.names import name_key
from papers.references import title_key, title_variants

# What a paper's card shows.
CARD_FIELDS = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "ai_summary",
    "author_names",
    "primary_category",
    "categories",
    "announced_on",
    "upvotes",
    "hf_comments",
    "organization",
    "thumbnail_url",
    "github_stars",
    "abs_url",
    "pdf_url",
    "hf_url",
    "code_url",
    "project_url",
    "featured",
)
DAY_ORDER = (F("upvotes").desc(nulls_last=True), F("arxiv_id").desc())


@dataclass
class PaperPage:
    """One page of a list of papers: its papers, its number, and whether more follow."""

    papers: list[Paper]
    number: int = 1
    has_next: bool = False
    total: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def visible_papers() -> QuerySet[Paper]:
    return Paper.objects.filter(hidden=False)


def _page(queryset: QuerySet[Paper], number: int, *, total: int | None = None) -> PaperPage:
    """Return page ``number`` of ``queryset``, reading one paper more than a page to tell if more follow."""
    size = settings.SITE_PAGE_SIZE
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return PaperPage(rows[:size], number, len(rows) > size, total)


def latest_day() -> dt.date | None:
    """Return the most recent announcement day with a visible paper."""
    return visible_papers().aggregate(day=Max("announced_on"))["day"]


def day_papers(*, day: dt.date, page: int = 1) -> PaperPage:
    """Return a page of the papers announced on ``day``, most upvoted first."""
    papers = visible_papers().filter(announced_on=day)
    total = papers.count() if page == 1 else None
    return _page(papers.order_by(*DAY_ORDER).only(*CARD_FIELDS), page, total=total)


def days_around(*, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Return the announcement days just before and just after ``day`` (None at either end)."""
    before = visible_papers().filter(announced_on__lt=day).aggregate(day=Max("announced_on"))["day"]
    after = visible_papers().filter(announced_on__gt=day).aggregate(day=Min("announced_on"))["day"]
    return before, after


def days_span() -> tuple[dt.date | None, dt.date | None]:
    """Return the first and the latest announcement days (the date picker's bounds)."""
    span = visible_papers().aggregate(first=Min("announced_on"), last=Max("announced_on"))
    return span["first"], span["last"]


def trending(*, first: dt.date, last: dt.date, limit: int = 50) -> list[Paper]:
    """Return the most upvoted papers announced from ``first`` to ``last`` (papers without votes never)."""
    return list(
        visible_papers()
        .filter(upvotes__isnull=False, upvotes__gt=0, announced_on__range=(first, last))
        .order_by("-upvotes", "-arxiv_id")
        .only(*CARD_FIELDS)[:limit]
    )


def paper_by_arxiv_id(arxiv_id: str) -> Paper | None:
    """Return the visible paper with this (version-free) arXiv id."""
    return visible_papers().filter(arxiv_id=arxiv_id).first()


# --- Search ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search besides its words."""

    category: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the filters that are set, as strings (for URLs and saved searches)."""
        data = {"category": self.category}
        data["date_from"] = self.date_from.isoformat() if self.date_from else ""
        data["date_to"] = self.date_to.isoformat() if self.date_to else ""
        return {name: value for name, value in data.items() if value}


@dataclass
class SearchResults(PaperPage):
    query: str = ""
    parsed: search.ParsedQuery = field(default_factory=lambda: search.ParsedQuery(()))


def in_any_category(categories: Iterable[str], *, prefix: str = "") -> Q:
    """Return the condition "listed in any of ``categories``" (everything when there are none)."""
    rule = Q()
    for category in dict.fromkeys(c for c in categories if c):
        if connection.vendor == "postgresql":
            rule |= Q(**{f"{prefix}categories__contains": [category]})
        else:
            rule |= Q(**{f"{prefix}categories__icontains": f'"{category}"'})
    return rule


def filtered(queryset: QuerySet[Paper], filters: SearchFilters) -> QuerySet[Paper]:
    if filters.category:
        queryset = queryset.filter(in_any_category([filters.category]))
    if filters.date_from:
        queryset = queryset.filter(announced_on__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(announced_on__lte=filters.date_to)
    return queryset


def search_papers(*, query: str, filters: SearchFilters, page: int = 1) -> SearchResults:
    """Return a page of the papers matching ``query`` (websearch syntax), best match first.

    PostgreSQL ranks its full-text matches (title above abstract above
    authors, then the newest); SQLite, in development, reads the same query
    in Python over a bounded window of candidates (``papers.search``). With an
    active embedding model the best SEMANTIC_WINDOW matches are then re-ranked
    by meaning as well (``_semantic_order``). A query of nothing searchable
    (stop words, punctuation) finds nothing.
    """
    query = search.clean_query(query)
    parsed = search.parse_query(query)
    if parsed.empty:
        return SearchResults([], page, False, query=query, parsed=parsed)
    papers = filtered(visible_papers(), filters)
    model = vectors.active_model()
    if connection.vendor == "postgresql":
        found = _ranked_page(_ranked_postgres(papers, query), page, query=query, model=model)
    else:
        found = _ranked_in_python(papers, parsed, page, query=query, model=model)
    return SearchResults(found.papers, found.number, found.has_next, query=query, parsed=parsed)


def search_newest(*, query: str, filters: SearchFilters, limit: int = 50) -> list[Paper]:
    """Return the newest papers matching ``query``: a search's feed, where new matches come first."""
    parsed = search.parse_query(query)
    if parsed.empty:
        return []
    papers = filtered(visible_papers(), filters)
    newest = (F("announced_on").desc(nulls_last=True), "-arxiv_id")
    if connection.vendor == "postgresql":
        tsquery = SearchQuery(search.clean_query(query), search_type="websearch", config="english")
        return list(papers.filter(search_vector=tsquery).order_by(*newest).only(*CARD_FIELDS)[:limit])
    window = papers.order_by(*newest).only(*CARD_FIELDS)[:SQLITE_SEARCH_WINDOW]
    return [p for p in window if search.matches(parsed, search.document_stems(p))][:limit]


def _ranked_postgres(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    tsquery = SearchQuery(query, search_type="websearch", config="english")
    return (
        papers.filter(search_vector=tsquery)
        .annotate(rank=SearchRank(F("search_vector"), tsquery))
        .order_by("-rank", F("announced_on").desc(nulls_last=True), "-arxiv_id")
        .only(*CARD_FIELDS)
    )


# How many of a search's best full-text matches are re-ranked by meaning, and how much meaning weighs.
SEMANTIC_WINDOW = 200
SEMANTIC_WEIGHT = 0.5


def _ranked_page(
    ranked: QuerySet[Paper], page: int, *, query: str, model: EmbeddingModel | None
) -> PaperPage:
    """Return page ``page`` of PostgreSQL's ranked matches, the first SEMANTIC_WINDOW re-ranked by meaning.

    The order is the window re-ranked, then the full-text order beyond it, so
    paging past the window reads the same query as without a model and no
    paper is shown twice or skipped.
    """
    size = settings.SITE_PAGE_SIZE
    start = (page - 1) * size
    if model is None or start >= SEMANTIC_WINDOW:
        return _page(ranked, page)
    window = list(ranked.values_list("pk", "rank")[:SEMANTIC_WINDOW])
    ids = _semantic_order(window, query=query, model=model)[start : start + size + 1]
    cards = Paper.objects.only(*CARD_FIELDS).in_bulk(ids)
    rows = [cards[pk] for pk in ids if pk in cards]
    if len(window) == SEMANTIC_WINDOW and start + size + 1 > SEMANTIC_WINDOW:
        rows += list(ranked[SEMANTIC_WINDOW : start + size + 1])
    return PaperPage(rows[:size], page, len(rows) > size)


def _semantic_order(ranked: list[tuple[int, float]], *, query: str, model: EmbeddingModel) -> list[int]:
    """Return the ids of ``ranked`` (matches with their full-text rank, best first) re-ordered by meaning too.

    Each paper scores (1 - SEMANTIC_WEIGHT) x its rank over the window's best
    plus SEMANTIC_WEIGHT x the cosine between the query's vector and its own,
    so the matches closest to what the query means rise. A paper not embedded
    yet takes the window's mean cosine (neither helped nor held back); a query
    of words the model does not know keeps the full-text order.
    """
    if not ranked:
        return []
    ids = [pk for pk, _rank in ranked]
    wanted = vectors.texts_embed(model, [search.meaning_text(query)])[0]
    if not wanted.any():
        return ids
    found = vectors.vectors_for(model_id=model.pk, paper_ids=ids)
    cosines = {pk: float(vector @ wanted) for pk, vector in found.items()}
    neutral = sum(cosines.values()) / len(cosines) if cosines else 0.0
    best = max(rank for _pk, rank in ranked) or 1.0
    score = {
        pk: (1 - SEMANTIC_WEIGHT) * rank / best + SEMANTIC_WEIGHT * cosines.get(pk, neutral)
        for pk, rank in ranked
    }
    return sorted(ids, key=lambda pk: -score[pk])  # stable: equal scores keep the full-text order


SQLITE_SEARCH_WINDOW = 5000


def _ranked_in_python(
    papers: QuerySet[Paper],
    parsed: search.ParsedQuery,
    page: int,
    *,
    query: str = "",
    model: EmbeddingModel | None = None,
) -> PaperPage:
    for fragment in search.prefilter_fragments(parsed):
        papers = papers.filter(
            Q(title__icontains=fragment)
            | Q(abstract__icontains=fragment)
            | Q(author_names__icontains=fragment)
        )
    window = papers.order_by(F("announced_on").desc(nulls_last=True), "-pk").only(*CARD_FIELDS)
    hits = [p for p in window[:SQLITE_SEARCH_WINDOW] if search.matches(parsed, search.document_stems(p))]
    scores = {p.pk: search.score(parsed, p) for p in hits}
    hits.sort(key=lambda p: -scores[p.pk])
    if model is not None and hits:
        best = {p.pk: p for p in hits[:SEMANTIC_WINDOW]}
        order = _semantic_order([(pk, scores[pk]) for pk in best], query=query, model=model)
        hits[: len(order)] = [best[pk] for pk in order]
    size = settings.SITE_PAGE_SIZE
    start = (page - 1) * size
    return PaperPage(hits[start : start + size], page, len(hits) > start + size)


def papers_matching_rule(
    *, categories: list[str], keywords: list[str], excluded: list[str], limit: int = 50
) -> list[Paper]:
    """Return the newest papers in any of ``categories`` or matching any keyword phrase, none excluded.

    A topic's rule as a feed reads it (full-text phrases on PostgreSQL, text
    containment on SQLite); digests apply their own matcher.
    """
    rule = Q()
    postgres = connection.vendor == "postgresql"
    for category in categories:
        rule |= Q(categories__contains=[category]) if postgres else Q(categories__icontains=f'"{category}"')
    for keyword in keywords:
        rule |= _phrase(keyword, postgres)
    if not rule:
        return []
    papers = visible_papers().filter(rule)
    for keyword in excluded:
        papers = papers.exclude(_phrase(keyword, postgres))
    order = (F("announced_on").desc(nulls_last=True), "-arxiv_id")
    return list(papers.order_by(*order).only(*CARD_FIELDS)[:limit])


def _phrase(keyword: str, postgres: bool) -> Q:
    if postgres:
        return Q(search_vector=SearchQuery(keyword, search_type="phrase", config="english"))
    return Q(title__icontains=keyword) | Q(abstract__icontains=keyword)


def feeds_enabled(*, kinds: list[str] | None = None) -> QuerySet[Feed]:
    """Return the enabled feeds, of the given kinds when ``kinds`` is set."""
    feeds = Feed.objects.filter(enabled=True)
    if kinds:
        feeds = feeds.filter(kind__in=kinds)
    return feeds.order_by("slug")


def papers_by_arxiv_ids(*, arxiv_ids: list[str]) -> dict[str, Paper]:
    """Return the catalogue's papers with these arXiv ids, by id (one query; unknown ids are left out)."""
    return {paper.arxiv_id: paper for paper in Paper.objects.filter(arxiv_id__in=arxiv_ids)}


def papers_by_titles(*, titles: list[str]) -> dict[str, Paper]:
    """Return catalogue papers whose title is one of ``titles``, by title key (case, TeX, punctuation aside).

    One query on the lower-cased title narrows the catalogue; the key then decides.
    """
    keys = {title_key(title): title for title in titles if title_key(title)}
    variants = {variant for title in keys.values() for variant in title_variants(title)}
    if not variants:
        return {}
    found: dict[str, Paper] = {}
    candidates = Paper.objects.annotate(lower_title=Lower("title")).filter(lower_title__in=variants)
    for paper in candidates.order_by("-announced_on", "arxiv_id")[: len(variants) * 2]:
        found.setdefault(title_key(paper.title), paper)
    return {key: found[key] for key in keys if key in found}


def papers_by_author(*, name: str, limit: int) -> list[Paper]:
    """Return up to ``limit`` catalogue papers with ``name`` among their authors, newest first.

    The surname narrows the catalogue in the database; the name key (accents,
    case and punctuation aside) decides.
    """
    key = name_key(name)
    words = re.findall(r"[^\W\d_]+", name)
    if not key or not words:
        return []
    surname = max(words, key=len)
    # The name as typed, or without its accents: "Ramírez" finds "Ramirez" too.
    narrow = Q(author_names__icontains=surname) | Q(author_names__icontains=name_key(surname))
    found = []
    candidates = Paper.objects.filter(narrow).order_by(F("announced_on").desc(nulls_last=True), "-arxiv_id")
    for paper in candidates[: limit * 20]:
        if any(name_key(author) == key for author in paper.author_names):
            found.append(paper)
            if len(found) == limit:
                break
    return found
