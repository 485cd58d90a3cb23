"""Rendering digests: each paper and each edition's frame once, every digest by assembly.

Rendering a template and inlining its CSS costs milliseconds; a worker's
thousands of digests share a few hundred papers and one or two editions. So a
:class:`DigestRenderer` renders and inlines each paper's block once (with a
slot where the subscriber-specific why-line goes) and each edition's frame once
(with slots for the items, the count and the interests), split at the slots
into :class:`Parts`; a digest is assembled by joining pieces. The
per-subscriber parts (links with signed tokens, the address) stay slots until
:func:`personalise`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html import escape as html_escape  # what django.utils.html.escape does, without its lazy wrapper

import css_inline
from django.conf import settings
from django.template.loader import render_to_string

from newsletter import selection
from newsletter.models import Edition
from papers.models import Paper

SUMMARY_LIMIT = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
_ITEM_START, _ITEM_END = "<!--PM-ITEM-START-->", "<!--PM-ITEM-END-->"

PERSONAL_PARTS = ("manage_url", "unsubscribe_url", "view_url", "feedback_base", "feed_url", "email")


def ascii_html(html: str) -> str:
    """Return ``html`` with each non-ASCII character written as a character reference (``&#183;``).

    The digest's HTML is kept ASCII from its pieces up: every client reads the
    references as the characters, the part goes out as 7bit, and an ASCII string
    is written into the provider's JSON without the UTF-8 conversion a wider one
    needs (a digest's HTML took orjson 30 µs as a wider string, 8 µs as ASCII).
    Only for markup and text: references are not read inside <style> or <script>.
    """
    return html if html.isascii() else html.encode("ascii", "xmlcharrefreplace").decode("ascii")


class Parts:
    """A text with named slots, kept as literal pieces so that filling the slots is one join.

    Digests are assembled from cached blocks and filled in per subscriber;
    replacing markers in a 30 KB string scanned it once per marker.
    """

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
        if not now:  # a paper's block: every slot stays one
            self.slots.extend([(base + index, name) for index, name in other.slots])
            return
        for index, name in other.slots:
            if name in now:
                self.pieces[base + index] = now[name]
            else:
                self.slots.append((base + index, name))

    def partial(self, values: dict[str, str]) -> Parts:
        """Return a copy with the slots named in ``values`` filled and the text around them joined."""
        pieces: list[str] = [self.pieces[0]]
        slots: list[tuple[int, str]] = []
        filled = dict(self.slots)
        for index in range(1, len(self.pieces)):
            name = filled.get(index)
            if name is None:
                pieces[-1] += self.pieces[index]
            elif name in values:
                pieces[-1] += values[name]
            else:
                slots.append((len(pieces), name))
                pieces.append("")
                pieces.append("")
        return Parts(pieces, slots)

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


def interests_of(profile: selection.Profile) -> str:
    """Return what the subscriber asked for, in words, for "why you receive this"."""
    parts = [topic.name for topic in profile.topics]
    parts += [f'"{keyword}"' for keyword in profile.keywords]
    parts += list(profile.authors)
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


class DigestRenderer:
    """Renders digests, caching each paper block and each edition frame (BLOCKS_KEPT of them at most).

    A worker process keeps one (see :func:`shared_renderer`): chunk after chunk
    draws on the same day's papers and editions.
    """

    BLOCKS_KEPT = 5000
    FILLED_KEPT = 5000

    def __init__(self) -> None:
        nonce = secrets.token_hex(6)
        slots = (*PERSONAL_PARTS, "why", "position", "items", "count", "interests")
        # Markers cannot be guessed by paper text; rendered templates are split at them once.
        self._markers = {name: f"PM{nonce}{name.upper()}X" for name in slots}
        self._names = {marker: name for name, marker in self._markers.items()}
        self._blocks: dict[tuple[object, ...], tuple[Parts, Parts]] = {}
        # Paper objects seen lately (by identity, the object kept) and blocks with their why-lines in.
        self._papers: dict[int, tuple[Paper, tuple[Parts, Parts]]] = {}
        self._filled: dict[tuple[Parts, str], tuple[Parts, Parts]] = {}
        self._frames: dict[tuple[object, ...], tuple[tuple[Parts, Parts], tuple[Parts, Parts]]] = {}

    def _block(self, paper: Paper) -> tuple[Parts, Parts]:
        key = _paper_key(paper)
        block = self._blocks.get(key)
        if block is None:
            if len(self._blocks) >= self.BLOCKS_KEPT:
                self._blocks.clear()
            feedback = self._markers["feedback_base"]
            context = {
                "item": {
                    "paper": paper,
                    "why": self._markers["why"],
                    "authors": authors_of(paper),
                    "summary": summary_of(paper),
                    "more_url": f"{feedback}{paper.pk}/more/",
                    "less_url": f"{feedback}{paper.pk}/less/",
                },
                "position": self._markers["position"],
            }
            document = ascii_html(
                _INLINER.inline(render_to_string("emails/digest/_item_document.html", context))
            )
            html = document[
                document.index(_ITEM_START) + len(_ITEM_START) : document.index(_ITEM_END)
            ].strip()
            text = render_to_string("emails/digest/_item.txt", context)
            block = (Parts.parse(html + "\n", self._names), Parts.parse(text, self._names))
            self._blocks[key] = block
        return block

    def _with_why(self, paper: Paper, why: str) -> tuple[Parts, Parts]:
        """Return a paper's block with this why-line in it (kept: many digests share both)."""
        seen = self._papers.get(id(paper))
        if seen is None or seen[0] is not paper:  # the same object: its block was checked this chunk
            if len(self._papers) >= self.BLOCKS_KEPT:
                self._papers.clear()
            seen = self._papers[id(paper)] = (paper, self._block(paper))
        html_block, text_block = seen[1]
        key = (html_block, why)  # the block itself (hashed by identity, and kept alive by the key)
        filled = self._filled.get(key)
        if filled is None:
            if len(self._filled) >= self.FILLED_KEPT:
                self._filled.clear()
            filled = self._filled[key] = (
                html_block.partial({"why": ascii_html(html_escape(why))}),
                text_block.partial({"why": why}),
            )
        return filled

    def _frame(self, edition: Edition) -> tuple[tuple[Parts, Parts], tuple[Parts, Parts]]:
        """Return the edition's ((html before, html after), (text before, text after)) the items."""
        key = (edition.pk, edition.cadence, edition.date, settings.SITE_URL, settings.POSTAL_ADDRESS)
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) >= 64:
                self._frames.clear()
            context = {
                "edition": edition,
                "items_marker": self._markers["items"],
                "count_marker": self._markers["count"],
                "interests_marker": self._markers["interests"],
                "site_url": settings.SITE_URL,
                "postal_address": settings.POSTAL_ADDRESS,
                **{name: self._markers[name] for name in PERSONAL_PARTS},
            }
            html = ascii_html(_INLINER.inline(render_to_string("emails/digest/body.html", context)))
            text = render_to_string("emails/digest/body.txt", context)
            # The items marker is an HTML comment: bare text inside a table would be moved out by the parser.
            html_head, html_tail = html.split(f"<!--{self._markers['items']}-->")
            text_head, text_tail = text.split(self._markers["items"])
            frame = (
                (Parts.parse(html_head, self._names), Parts.parse(html_tail, self._names)),
                (Parts.parse(text_head, self._names), Parts.parse(text_tail, self._names)),
            )
            self._frames[key] = frame
        return frame

    def render(
        self,
        *,
        edition: Edition,
        picks: list[selection.Pick],
        papers: dict[int, Paper],
        profile: selection.Profile,
    ) -> DigestContent:
        """Return the digest for these picks, with slots for the per-subscriber parts."""
        (html_head, html_tail), (text_head, text_tail) = self._frame(edition)
        count = f"{len(picks)} paper{'s' if len(picks) != 1 else ''}"
        interests = interests_of(profile)
        html_now = {"count": count, "interests": ascii_html(html_escape(interests))}
        text_now = {"count": count, "interests": interests}
        html, text = Parts([], []), Parts([], [])
        html.extend(html_head, html_now)
        text.extend(text_head, text_now)
        for position, pick in enumerate(picks, 1):
            html_block, text_block = self._with_why(papers[pick.paper_id], pick.why)
            html.extend(html_block, {})
            text.extend(text_block, {"position": str(position)})
        html.extend(html_tail, html_now)
        text.extend(text_tail, text_now)
        return DigestContent(
            subject=subject_for(edition, papers[picks[0].paper_id], len(picks)), text=text, html=html
        )


_shared: DigestRenderer | None = None


def shared_renderer() -> DigestRenderer:
    """Return this process's renderer, whose blocks and frames outlive one chunk."""
    global _shared
    if _shared is None or settings.DEBUG:  # templates edited while debugging show at once
        _shared = DigestRenderer()
    return _shared


def render_digest(
    *, edition: Edition, picks: list[selection.Pick], papers: dict[int, Paper], profile: selection.Profile
) -> DigestContent:
    """Render one digest (for previews and the browser view)."""
    return DigestRenderer().render(edition=edition, picks=picks, papers=papers, profile=profile)


def personalise(content: DigestContent, personal: Personal) -> tuple[str, str, str]:
    """Return (subject, text, html) with this subscriber's parts filled in."""
    values = {part: getattr(personal, part) for part in PERSONAL_PARTS}
    escaped = {part: ascii_html(html_escape(value)) for part, value in values.items()}
    return content.subject, content.text.fill(values), content.html.fill(escaped)
