"""Rendering a digest once per distinct content, then personalising it per subscriber.

The shared body carries placeholders for the per-subscriber parts (links that
hold signed tokens, the address). :func:`render_digest` does the expensive work
(templates, CSS inlining) once; :func:`personalise` is string replacement.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.template.loader import render_to_string

from newsletter import selection
from newsletter.models import Edition
from papers.models import Paper

SUMMARY_LIMIT = 320
GMAIL_CLIP_BYTES = 102 * 1024
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)

PERSONAL_PARTS = ("manage_url", "unsubscribe_url", "view_url", "feedback_base", "feed_url", "email")


@dataclass(frozen=True)
class DigestContent:
    """A rendered digest with placeholders for the per-subscriber parts."""

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
    sentences = _SENTENCE_END.split(abstract)
    summary = ""
    for sentence in sentences:
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


def render_digest(
    *, edition: Edition, picks: list[selection.Pick], papers: dict[int, Paper], profile: selection.Profile
) -> DigestContent:
    """Render a digest's subject, text and HTML (CSS inlined) with per-subscriber placeholders."""
    nonce = secrets.token_hex(6)
    placeholders = {part: f"PM{nonce}{part.upper()}X" for part in PERSONAL_PARTS}
    items = [
        {
            "paper": papers[pick.paper_id],
            "why": pick.why,
            "authors": authors_of(papers[pick.paper_id]),
            "summary": summary_of(papers[pick.paper_id]),
            "more_url": f"{placeholders['feedback_base']}{pick.paper_id}/more/",
            "less_url": f"{placeholders['feedback_base']}{pick.paper_id}/less/",
        }
        for pick in picks
    ]
    context = {
        "edition": edition,
        "items": items,
        "interests": interests_of(profile),
        "site_url": settings.SITE_URL,
        "postal_address": settings.POSTAL_ADDRESS,
        **placeholders,
    }
    html = _INLINER.inline(render_to_string("emails/digest/body.html", context))
    return DigestContent(
        subject=subject_for(edition, papers[picks[0].paper_id], len(picks)),
        text=render_to_string("emails/digest/body.txt", context),
        html=html,
        placeholders=placeholders,
    )


def interests_of(profile: selection.Profile) -> str:
    """Return what the subscriber asked for, in words, for "why you receive this"."""
    parts = [topic.name for topic in profile.topics]
    parts += [f'"{keyword}"' for keyword in profile.keywords]
    parts += list(profile.authors)
    if len(parts) > 6:
        parts = [*parts[:6], f"{len(parts) - 6} more"]
    return ", ".join(parts)


def personalise(content: DigestContent, personal: Personal) -> tuple[str, str, str]:
    """Return (subject, text, html) with the placeholders replaced by this subscriber's parts."""
    text, html = content.text, content.html
    for part, marker in content.placeholders.items():
        value = getattr(personal, part)
        text = text.replace(marker, value)
        html = html.replace(marker, _html_escape(value))
    return content.subject, text, html


def _html_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
