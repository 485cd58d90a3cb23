"""Seed papers: the papers a reader names as ones they like, found in the catalogue or on arXiv.

What the reader typed or uploaded is parsed by the forms (``papers.references``);
here it becomes catalogue papers. ``services.feedback_seed`` stores them as likes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from papers import lookup
from papers import selectors as paper_selectors
from papers.models import Paper
from papers.references import Reference, title_key


@dataclass
class SeedResult:
    """What a reader's list or file came to: the papers found, and what was not, in words for them."""

    papers: list[Paper] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    left_out: int = 0  # named beyond ``limit``, the most taken at a time
    limit: int = 0
    problem: str = ""  # arXiv could not be asked
    file_format: str = ""

    @property
    def arxiv_ids(self) -> list[str]:
        return [paper.arxiv_id for paper in self.papers]


def seeds_resolve(
    *, arxiv_ids: list[str], references: list[Reference] = (), file_format: str = ""
) -> SeedResult:  # type: ignore[assignment]
    """Return the papers named by ids and by a file's references, at most SEED_MAX_PAPERS of them.

    An id is looked up in the catalogue, else on the arXiv API (which stores
    it); a reference without an id is matched to the catalogue by its title.
    """
    labels: dict[str, str] = {arxiv_id: arxiv_id for arxiv_id in arxiv_ids}
    wanted = list(arxiv_ids)
    untitled = [ref for ref in references if not ref.arxiv_id]
    by_title = paper_selectors.papers_by_titles(titles=[ref.title for ref in untitled])
    not_found: list[str] = []
    for ref in references:
        arxiv_id = ref.arxiv_id or getattr(by_title.get(title_key(ref.title)), "arxiv_id", "")
        if not arxiv_id:
            not_found.append(ref.label)
        elif arxiv_id not in labels:
            labels[arxiv_id] = ref.label
            wanted.append(arxiv_id)
    limit = settings.SEED_MAX_PAPERS
    found = lookup.papers_for_arxiv_ids(arxiv_ids=wanted[:limit])
    return SeedResult(
        papers=found.papers,
        not_found=not_found + [labels[arxiv_id] for arxiv_id in found.missing],
        left_out=max(0, len(wanted) - limit),
        limit=limit,
        problem=found.problem,
        file_format=file_format,
    )
