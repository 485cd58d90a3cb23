"""Rendering digests: each paper and each edition's frame once, every digest by assembly.

Rendering a template and inlining its CSS costs milliseconds; a batch of
thousands of digests shares a few hundred papers and one or two editions. So a
:class:`DigestRenderer` renders and inlines each paper's block once (with a
marker where the subscriber-specific why-line goes) and each edition's frame
once (with markers for the items, the count and the interests), and a digest is
assembled from them by string replacement. The per-subscriber parts (links
with signed tokens, the address) stay markers until :func:`personalise`, or are
handed to the provider as merge data.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape

from newsletter import selection
from newsletter.models import Edition
from papers.models import Paper

SUMMARY_LIMIT = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
_ITEM_START, _ITEM_END = "<!--PM-ITEM-START-->", "<!--PM-ITEM-END-->"

PERSONAL_PARTS = ("manage_url", "unsubscribe_url", "view_url", "feedback_base", "feed_url", "email")


@dataclass(frozen=True)
class DigestContent:
    """A rendered digest with markers for the per-subscriber parts."""

    subject: str
    text: str
    html: str
    placeholders: dict[str, str]


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

    def __init__(self) -> None:
        nonce = secrets.token_hex(6)
        marker = lambda name: f"PM{nonce}{name.upper()}X"  # noqa: E731 - unguessable by paper text
        self.placeholders = {part: marker(part) for part in PERSONAL_PARTS}
        self._why, self._items, self._count, self._interests, self._position = (
            marker("why"),
            marker("items"),
            marker("count"),
            marker("interests"),
            marker("position"),
        )
        self._blocks: dict[tuple[object, ...], tuple[str, str]] = {}
        self._frames: dict[tuple[object, ...], tuple[str, str]] = {}

    def _block(self, paper: Paper) -> tuple[str, str]:
        key = _paper_key(paper)
        block = self._blocks.get(key)
        if block is None:
            if len(self._blocks) >= self.BLOCKS_KEPT:
                self._blocks.clear()
            feedback = self.placeholders["feedback_base"]
            context = {
                "item": {
                    "paper": paper,
                    "why": self._why,
                    "authors": authors_of(paper),
                    "summary": summary_of(paper),
                    "more_url": f"{feedback}{paper.pk}/more/",
                    "less_url": f"{feedback}{paper.pk}/less/",
                },
                "position": self._position,
            }
            document = _INLINER.inline(render_to_string("emails/digest/_item_document.html", context))
            html = document[
                document.index(_ITEM_START) + len(_ITEM_START) : document.index(_ITEM_END)
            ].strip()
            block = (html, render_to_string("emails/digest/_item.txt", context))
            self._blocks[key] = block
        return block

    def _frame(self, edition: Edition) -> tuple[str, str]:
        key = (edition.pk, edition.cadence, edition.date, settings.SITE_URL, settings.POSTAL_ADDRESS)
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) >= 64:
                self._frames.clear()
            context = {
                "edition": edition,
                "items_marker": self._items,
                "count_marker": self._count,
                "interests_marker": self._interests,
                "site_url": settings.SITE_URL,
                "postal_address": settings.POSTAL_ADDRESS,
                **self.placeholders,
            }
            frame = (
                _INLINER.inline(render_to_string("emails/digest/body.html", context)),
                render_to_string("emails/digest/body.txt", context),
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
        merge: bool = False,
    ) -> DigestContent:
        """Return the digest for these picks, with markers for the per-subscriber parts.

        With ``merge``, the why-lines and the interests are markers too
        (``why1``..``whyN``, ``interests``), so subscribers who get the same
        papers for different reasons share one message and its merge data.
        """
        placeholders = dict(self.placeholders)
        html_items, text_items = [], []
        for position, pick in enumerate(picks, 1):
            html_block, text_block = self._block(papers[pick.paper_id])
            if merge:
                placeholders[f"why{position}"] = marker = f"{self._why}{position}Y"
                html_why = text_why = marker
            else:
                html_why, text_why = escape(pick.why), pick.why
            html_items.append(html_block.replace(self._why, html_why))
            text_items.append(text_block.replace(self._why, text_why).replace(self._position, str(position)))
        html_frame, text_frame = self._frame(edition)
        if merge:
            placeholders["interests"] = interests = self._interests + "M"
        else:
            interests = interests_of(profile)
        count = f"{len(picks)} paper{'s' if len(picks) != 1 else ''}"
        html = (
            # The items marker is an HTML comment: bare text inside a table would be moved out by the parser.
            html_frame.replace(f"<!--{self._items}-->", "\n".join(html_items))
            .replace(self._interests, interests if merge else escape(interests))
            .replace(self._count, count)
        )
        text = text_frame.replace(self._items, "".join(text_items)).replace(self._interests, interests)
        return DigestContent(
            subject=subject_for(edition, papers[picks[0].paper_id], len(picks)),
            text=text,
            html=html,
            placeholders=placeholders,
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
    """Return (subject, text, html) with the markers replaced by this subscriber's parts."""
    text, html = content.text, content.html
    for part, marker in content.placeholders.items():
        value = getattr(personal, part)
        text = text.replace(marker, value)
        html = html.replace(marker, escape(value))
    return content.subject, text, html
