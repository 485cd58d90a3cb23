"""Find the papers a reader names: in the catalogue, else on the arXiv API, stored by the normal ingest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings

from papers import feeds, selectors, services
from papers.feeds.entries import ARXIV_API
from papers.fetching import FetchError, fetch_document
from papers.models import FetchRun, Paper
from papers.names import name_key

logger = logging.getLogger(__name__)


@dataclass
class Found:
    """Papers found, in the order asked, and what could not be."""

    papers: list[Paper] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids arXiv does not know either
    problem: str = ""  # arXiv could not be asked; said to the person


def papers_for_arxiv_ids(*, arxiv_ids: list[str]) -> Found:
    """Return the papers with these ids, fetching the ones the catalogue lacks in one arXiv API query."""
    known = selectors.papers_by_arxiv_ids(arxiv_ids=arxiv_ids)
    absent = [arxiv_id for arxiv_id in arxiv_ids if arxiv_id not in known]
    problem = ""
    if absent:
        query = {"id_list": ",".join(absent), "max_results": len(absent)}
        _, problem = _ingest_from_api(query)
        known.update(selectors.papers_by_arxiv_ids(arxiv_ids=absent))
    return Found(
        papers=[known[arxiv_id] for arxiv_id in arxiv_ids if arxiv_id in known],
        missing=[arxiv_id for arxiv_id in arxiv_ids if arxiv_id not in known],
        problem=problem,
    )


def papers_by_author(*, name: str) -> Found:
    """Return papers by ``name``: the catalogue's, else the arXiv API's newest (an ``au:`` query), capped."""
    limit = settings.SEED_AUTHOR_MAX_PAPERS
    papers = selectors.papers_by_author(name=name, limit=limit)
    if papers:
        return Found(papers=papers)
    query = {
        "search_query": f'au:"{name}"',
        "max_results": limit,
        "sortBy": "submittedDate",
        "sortOrder": "descending",
    }
    answered, problem = _ingest_from_api(query)
    # arXiv matches names loosely; only papers that carry this very name are offered.
    key = name_key(name)
    known = selectors.papers_by_arxiv_ids(arxiv_ids=answered)
    papers = [
        known[arxiv_id]
        for arxiv_id in answered
        if arxiv_id in known and any(name_key(author) == key for author in known[arxiv_id].author_names)
    ]
    return Found(papers=papers, problem=problem)


def _ingest_from_api(query: dict[str, object]) -> tuple[list[str], str]:
    """Fetch one arXiv API query and store its papers; return the ids it answered, and what went wrong.

    What went wrong is said for the person ("" when nothing did); the details go to the log.
    """
    url = f"{settings.ARXIV_API_URL}?{urlencode(query)}"
    try:
        fetched = fetch_document(url, attempts=1, total_timeout=settings.SEED_FETCH_TIMEOUT)
    except FetchError as error:
        logger.warning("arXiv lookup %s failed: %s", url, error)
        return [], "arXiv could not be reached just now; try again in a few minutes."
    if fetched.status >= 400 or fetched.body is None:
        logger.warning("arXiv lookup %s answered HTTP %s", url, fetched.status)
        return [], "arXiv could not answer just now; try again in a few minutes."
    run = services.document_ingest(
        data=fetched.body, source=url, fmt=ARXIV_API, http_status=fetched.status, quote_document=False
    )
    if run.status != FetchRun.Status.OK:
        logger.warning("arXiv lookup %s gave no papers: %s", url, run.error)
        return [], "arXiv's answer could not be read; try again later."
    # Parsed once more for its ids alone: the ingest says how many papers, not which.
    return [entry.arxiv_id for entry in feeds.parse(fetched.body, ARXIV_API).entries], ""
