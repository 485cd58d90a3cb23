"""The public Atom feeds' views: the feed classes, kept in the site cache like the pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from papers import site_cache
from papers.syndication import DayFeed, SearchFeed


@require_safe
def day_feed(request: HttpRequest, day: str = "") -> HttpResponse:
    return site_cache.cached_page(request, lambda: DayFeed()(request, day=day))


@require_safe
def search_feed(request: HttpRequest) -> HttpResponse:
    return site_cache.cached_page(request, lambda: SearchFeed()(request))
