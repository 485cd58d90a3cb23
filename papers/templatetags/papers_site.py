"""Template filters for the papers site (the logic lives in papers.presentation)."""

from __future__ import annotations

from collections.abc import Sequence

from django import template

from papers import presentation, taxonomy

register = template.Library()


@register.filter
def short_authors(names: Sequence[str]) -> str:
    return presentation.short_authors(names or [])


@register.filter
def snippet(text: str, length: int = presentation.SNIPPET_LENGTH) -> str:
    return presentation.snippet(text, length)


@register.filter
def link_url(value: str) -> str:
    return presentation.link_url(value)


@register.filter
def image_url(value: str) -> str:
    return presentation.image_url(value)


@register.filter
def category_name(code: str) -> str:
    return taxonomy.category_names().get(code, "")


@register.filter
def pdf_url(paper: object) -> str:
    return presentation.pdf_url(paper)
