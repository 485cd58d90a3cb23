"""Rendering digests from the template set ``emails/digest/``: each paper block and edition frame once.

A worker's thousands of digests share a few hundred papers and one or two
editions, and rendering a template and inlining its CSS is by far the
costliest step of a digest. So each paper's block and each edition's frame is
rendered and inlined once (cache regions "paper blocks" and "frames"), with
slots where what differs between digests goes: the why-line and position, the
items, the count and interests, and the subscriber's own links and address.
A why-line is a slot, not part of the kept block: a reader's learned model
names the paper they liked in it, so why-lines are nearly as many as digests.
A digest is assembled by joining pieces (:class:`Parts`); :func:`personalise`
fills in the subscriber's parts.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as html_escape
from typing import TypeVar

import css_inline
from django.conf import settings
from django.template.loader import render_to_string

from newsletter import candidates
from newsletter.models import Edition
from papers import cache
from papers.models import Paper
from papers.taxonomy import category_names

SUMMARY_LIMIT = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
_ITEM_START, _ITEM_END = "<!--PM-ITEM-START-->", "<!--PM-ITEM-END-->"

PERSONAL_PARTS = ("manage_url", "unsubscribe_url", "view_url", "feedback_base", "feed_url", "email")


class Parts:
    """A text with named slots, kept as literal pieces so that filling the slots is one join."""

    __slots__ = ("pieces", "slots")

    def __init__(self, pieces: list[str], slots: list[tuple[int, str]]) -> None:
        self.pieces = pieces  # literal text, with "" where a slot goes
        self.slots = slots  # (index in pieces, slot name)

    @classmethod
    def parse(cls, text: str, markers: dict[str, str]) -> Parts:
        """Return ``text`` with each marker (marker -> slot name) turned into a slot."""
        pieces: list[str] = []
        slots: list[tuple[int, str]] = []
        pattern = re.compile("|".join(re.escape(marker) for marker in markers))
        position = 0
        for match in pattern.finditer(text):
            pieces.append(text[position : match.start()])
            slots.append((len(pieces), markers[match.group()]))
            pieces.append("")
            position = match.end()
        pieces.append(text[position:])
        return cls(pieces, slots)

    def extend(self, other: Parts, now: dict[str, str]) -> None:
        """Append ``other``, filling the slots named in ``now`` and keeping the rest as slots."""
        base = len(self.pieces)
        self.pieces.extend(other.pieces)
        for index, name in other.slots:
            if name in now:
                self.pieces[base + index] = now[name]
            else:
                self.slots.append((base + index, name))

    def fill(self, values: dict[str, str]) -> str:
        """Return the text with every slot filled from ``values``."""
        pieces = self.pieces.copy()
        for index, name in self.slots:
            pieces[index] = values[name]
        return "".join(pieces)


@dataclass(frozen=True)
class DigestContent:
    """A rendered digest whose per-subscriber parts are slots (see PERSONAL_PARTS)."""

    subject: str
    text: Parts
    html: Parts


@dataclass(frozen=True)
class Personal:
    """The per-subscriber parts of a digest."""

    manage_url: str
    unsubscribe_url: str
    view_url: str
    feedback_base: str  # ends with "/"; a paper's links append "<paper id>/more/" or "/less/"
    feed_url: str
    email: str


def shorten(text: str, limit: int) -> str:
    """Return ``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


def summary_of(paper: Paper) -> str:
    """Return the Hugging Face AI summary, or the abstract cut at a sentence boundary."""
    if paper.ai_summary:
        return shorten(paper.ai_summary, SUMMARY_LIMIT)
    abstract = paper.abstract
    if len(abstract) <= SUMMARY_LIMIT:
        return abstract
    summary = ""
    for sentence in _SENTENCE_END.split(abstract):
        if len(summary) + len(sentence) + 1 > SUMMARY_LIMIT:
            break
        summary = f"{summary} {sentence}".strip()
    return summary or shorten(abstract, SUMMARY_LIMIT)


def authors_of(paper: Paper, limit: int = 4) -> str:
    """Return the authors, shortened to the first three and "et al." when there are more than ``limit``."""
    names = list(paper.author_names)
    if len(names) > limit:
        return ", ".join(names[:3]) + " et al."
    return ", ".join(names)


def either(items: list[str]) -> str:
    """Return ``items`` as alternatives in words: "a", "a or b", "a, b or c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def feedback_effect(paper: Paper, *, more: bool) -> str:
    """Return, in one sentence, what "more" or "less like this" on ``paper`` changes in later digests.

    Feedback weighs every category and every author of the paper (see
    ``selection.select``), so the sentence names those the paper has, and says
    so when it has none.
    """
    categories = list(paper.categories)
    authors = list(paper.author_names)
    if not (categories or authors):
        return (
            "This paper lists no categories or authors, so your choice will not change what your "
            "future digests put first."
        )
    if len(authors) > 4:
        authors = [*authors[:3], f"any of {len(authors) - 3} other authors"]
    parts = []
    if categories:
        parts.append(f"papers in {either(categories)}")
    if authors:
        parts.append(f"papers by {either(authors)}")
    return f"Your future digests will {'favour' if more else 'play down'} {' and '.join(parts)}."


def subject_for(edition: Edition, top: Paper, count: int) -> str:
    """Return the subject: the date and the top paper's title, shortened."""
    more = f" (+{count - 1} more)" if count > 1 else ""
    return f"{edition.date:%a %-d %b}: {shorten(top.title, 70)}{more}"


def interests_of(profile: candidates.Profile) -> str:
    """Return what the subscriber asked for, in words, for "why you receive this"."""
    parts = [topic.name for topic in profile.topics]
    parts += [f'"{keyword}"' for keyword in profile.keywords]
    parts += list(profile.authors)
    parts += [f"the search “{search.query}”" for search in profile.searches]
    names = category_names()
    parts += [names.get(code, f"arXiv category {code}") for code in profile.categories]
    if len(parts) > 6:
        parts = [*parts[:6], f"{len(parts) - 6} more"]
    return ", ".join(parts)


def _paper_key(paper: Paper) -> tuple[object, ...]:
    """Return what a paper's block shows: an edited paper gets a new block."""
    return (
        paper.pk,
        paper.arxiv_id,
        paper.version,
        paper.title,
        paper.abstract,
        paper.ai_summary,
        tuple(paper.author_names),
        tuple(paper.categories),
        paper.upvotes,
        paper.abs_url,
        paper.pdf_url,
        paper.hf_url,
        paper.code_url,
    )


T = TypeVar("T")
BLOCKS_KEPT = 5000  # a few days' papers
FRAMES_KEPT = 64

SLOTS = (*PERSONAL_PARTS, "why", "position", "items", "count", "interests")
# Where a slot goes in a rendered template. The process's own random part makes a marker that no
# paper's text can contain.
_NONCE = secrets.token_hex(6)
MARKERS = {name: f"PM{_NONCE}{name.upper()}X" for name in SLOTS}
_SLOT_OF = {marker: name for name, marker in MARKERS.items()}

Block = tuple[Parts, Parts]  # (html, text)


def _kept(region: str, size: int, key: object, make: Callable[[], T]) -> T:
    """Return ``make()``, kept in the cache region; while debugging, templates are read afresh."""
    if settings.DEBUG:
        return make()
    return cache.region(region, size).get_or_make(key, make)


def _render_block(paper: Paper) -> Block:
    """Render a paper's item from the template set, with slots for the why-line, position and links."""
    feedback = MARKERS["feedback_base"]
    context = {
        "item": {
            "paper": paper,
            "why": MARKERS["why"],
            "authors": authors_of(paper),
            "summary": summary_of(paper),
            "more_url": f"{feedback}{paper.pk}/more/",
            "less_url": f"{feedback}{paper.pk}/less/",
        },
        "position": MARKERS["position"],
    }
    # The item is inlined inside a document that carries the digest's styles, then cut out of it.
    document = _INLINER.inline(render_to_string("emails/digest/_item_document.html", context))
    html = document[document.index(_ITEM_START) + len(_ITEM_START) : document.index(_ITEM_END)].strip()
    text = render_to_string("emails/digest/_item.txt", context)
    return Parts.parse(html + "\n", _SLOT_OF), Parts.parse(text, _SLOT_OF)


def paper_block(paper: Paper) -> Block:
    """Return a paper's block, with slots for the why-line, position and links (every digest shares it)."""
    return _kept("paper blocks", BLOCKS_KEPT, _paper_key(paper), lambda: _render_block(paper))


def _render_frame(edition: Edition) -> tuple[Block, Block]:
    """Render the edition's frame: ((html before, text before), (html after, text after)) the items."""
    context = {
        "edition": edition,
        "items_marker": MARKERS["items"],
        "count_marker": MARKERS["count"],
        "interests_marker": MARKERS["interests"],
        "site_url": settings.SITE_URL,
        "postal_address": settings.POSTAL_ADDRESS,
        **{name: MARKERS[name] for name in PERSONAL_PARTS},
    }
    html = _INLINER.inline(render_to_string("emails/digest/body.html", context))
    text = render_to_string("emails/digest/body.txt", context)
    # The items marker is an HTML comment: bare text inside a table would be moved out by the parser.
    html_head, html_tail = html.split(f"<!--{MARKERS['items']}-->")
    text_head, text_tail = text.split(MARKERS["items"])
    return (
        (Parts.parse(html_head, _SLOT_OF), Parts.parse(text_head, _SLOT_OF)),
        (Parts.parse(html_tail, _SLOT_OF), Parts.parse(text_tail, _SLOT_OF)),
    )


def edition_frame(edition: Edition) -> tuple[Block, Block]:
    """Return the edition's frame (see _render_frame), rendered once per edition and settings."""
    key = (edition.pk, edition.cadence, edition.date, settings.SITE_URL, settings.POSTAL_ADDRESS)
    return _kept("frames", FRAMES_KEPT, key, lambda: _render_frame(edition))


class DigestRenderer:
    """Renders digests that draw on one set of loaded papers (a chunk's).

    The blocks come from the process cache; which block a paper uses is looked
    up once per chunk, not once per digest. Why-lines are filled into each
    digest's copy of the block's slots.
    """

    def __init__(self, papers: dict[int, Paper]) -> None:
        self.papers = papers
        self._blocks: dict[int, Block] = {}

    def block(self, paper_id: int) -> Block:
        found = self._blocks.get(paper_id)
        if found is None:
            found = self._blocks[paper_id] = paper_block(self.papers[paper_id])
        return found

    def render(
        self, *, edition: Edition, picks: list[candidates.Pick], profile: candidates.Profile
    ) -> DigestContent:
        """Return the digest for these picks, with slots for the per-subscriber parts."""
        (html_head, text_head), (html_tail, text_tail) = edition_frame(edition)
        count = f"{len(picks)} paper{'s' if len(picks) != 1 else ''}"
        interests = interests_of(profile)
        html_now = {"count": count, "interests": html_escape(interests)}
        text_now = {"count": count, "interests": interests}
        html, text = Parts([], []), Parts([], [])
        html.extend(html_head, html_now)
        text.extend(text_head, text_now)
        for position, pick in enumerate(picks, 1):
            html_block, text_block = self.block(pick.paper_id)
            html.extend(html_block, {"why": html_escape(pick.why)})
            text.extend(text_block, {"why": pick.why, "position": str(position)})
        html.extend(html_tail, html_now)
        text.extend(text_tail, text_now)
        top = self.papers[picks[0].paper_id]
        return DigestContent(subject=subject_for(edition, top, len(picks)), text=text, html=html)


def render_digest(
    *,
    edition: Edition,
    picks: list[candidates.Pick],
    papers: dict[int, Paper],
    profile: candidates.Profile,
) -> DigestContent:
    """Return one digest (for previews and the browser view)."""
    return DigestRenderer(papers).render(edition=edition, picks=picks, profile=profile)


def personalise(content: DigestContent, personal: Personal) -> tuple[str, str, str]:
    """Return (subject, text, html) with this subscriber's parts filled in."""
    values = {part: getattr(personal, part) for part in PERSONAL_PARTS}
    escaped = {part: html_escape(value) for part, value in values.items()}
    return content.subject, content.text.fill(values), content.html.fill(escaped)
