"""The public pages' cache: whole responses in Django's cache, all made stale at once by a new version.

Each key carries the catalogue's current version; ingest and editors' changes
bump it (``bump``), so the next request of each page is rendered afresh and the
old entries expire on their own (SITE_CACHE_SECONDS). The pages it keeps carry
nothing personal (no CSRF token, no session): every visitor gets the same bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

VERSION_KEY = "site:version"


def version() -> str:
    """Return the catalogue's cache version, starting one when there is none."""
    current = cache.get(VERSION_KEY)
    if current is None:
        current = str(time.time_ns())
        cache.add(VERSION_KEY, current, timeout=None)
        current = cache.get(VERSION_KEY, current)
    return str(current)


def bump() -> None:
    """Make every cached page stale now (the catalogue changed)."""
    cache.set(VERSION_KEY, str(time.time_ns()), timeout=None)


def bump_on_commit() -> None:
    """Make cached pages stale once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(bump)


def _key(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"site:{version()}:{digest}"


def cached_page(request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """Return the cached response for this URL, or ``render()`` it and keep it when it is a 200."""
    key = _key(request)
    kept = cache.get(key)
    if kept is not None:
        content_type, content = kept
        response = HttpResponse(content, content_type=content_type)
        response["X-Site-Cache"] = "hit"
    else:
        response = render()
        if response.status_code == 200:
            cache.set(key, (response["Content-Type"], response.content), settings.SITE_CACHE_SECONDS)
        response["X-Site-Cache"] = "miss"
    if response.status_code == 200:
        patch_cache_control(response, public=True, max_age=settings.SITE_BROWSER_CACHE_SECONDS)
    return response
