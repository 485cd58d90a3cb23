"""How a paper is shown on the site: short author lists, summaries, and which URLs may become links."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from papers.feeds.entries import abs_url_for, pdf_url_for, web_url

AUTHORS_SHOWN = 3  # a longer list shows the first three and the last (often the lab's head)
SNIPPET_LENGTH = 320


def short_authors(names: Sequence[str]) -> str:
    """Return up to four names in full, or "A, B, C, … Z (12 authors)" for more."""
    names = [name for name in names if name]
    if len(names) <= AUTHORS_SHOWN + 1:
        return ", ".join(names)
    return f"{', '.join(names[:AUTHORS_SHOWN])}, … {names[-1]} ({len(names)} authors)"


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """Return the first ``length`` characters of ``text``, cut at a word, with an ellipsis when cut."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(",;:.-")
    return f"{cut}…"


def link_url(value: str) -> str:
    """Return ``value`` when it is an http(s) URL with a host, else "": nothing else becomes a link."""
    return web_url(value) if value else ""


def image_url(value: str) -> str:
    """Return ``value`` when it is an https URL: the pages' policy loads images over https only."""
    url = link_url(value)
    return url if urlsplit(url).scheme == "https" else ""


def version_links(arxiv_id: str, latest: int | None) -> list[tuple[str, str]]:
    """Return (label, abstract URL) for each version up to ``latest``, newest first."""
    if not latest or latest < 1:
        return []
    base = abs_url_for(arxiv_id)
    return [(f"v{n}", f"{base}v{n}") for n in range(min(latest, 50), 0, -1)]


def pdf_url(paper: object) -> str:
    """Return the paper's PDF link: the one its feed gave when http(s), else arXiv's own."""
    return link_url(getattr(paper, "pdf_url", "")) or pdf_url_for(paper.arxiv_id)  # type: ignore[attr-defined]
