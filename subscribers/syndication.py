"""A public Atom feed per topic: the newest papers its categories and keywords pick."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_safe

from papers import selectors as paper_selectors
from papers import site_cache
from papers.models import Paper, Topic
from papers.syndication import PaperFeed


class TopicFeed(PaperFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Topic:
        return get_object_or_404(Topic, slug=slug, active=True)

    def title(self, obj: Topic) -> str:
        return f"papermail: {obj.name}"

    def link(self, obj: Topic) -> str:
        return reverse("papers:latest")

    def subtitle(self, obj: Topic) -> str:
        return obj.description or f"The newest papers on {obj.name}."

    def items(self, obj: Topic) -> list[Paper]:
        return paper_selectors.papers_matching_rule(
            categories=list(obj.categories),
            keywords=list(obj.include_keywords),
            excluded=list(obj.exclude_keywords),
        )


@require_safe
def topic_feed(request: HttpRequest, slug: str) -> HttpResponse:
    return site_cache.cached_page(request, lambda: TopicFeed()(request, slug=slug))
