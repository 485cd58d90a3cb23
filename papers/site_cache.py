"""The public pages' cache: whole responses in Django's cache, all made stale at once by a new version.

Each page is kept with the catalogue's version it was rendered at; ingest and
editors' changes bump the version (``bump``), so the next request of each page
is rendered afresh (SITE_CACHE_SECONDS bounds how long an unvisited one stays). The pages it keeps carry
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


def _start_version() -> str:
    """Return the current version, starting one when there is none (a new or emptied cache)."""
    cache.add(VERSION_KEY, str(time.time_ns()), timeout=None)
    return str(cache.get(VERSION_KEY))


def bump() -> None:
    """Make every cached page stale now (the catalogue changed)."""
    cache.set(VERSION_KEY, str(time.time_ns()), timeout=None)


def bump_on_commit() -> None:
    """Make cached pages stale once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(bump)


def _key(request: HttpRequest) -> str:
    return "site:page:" + hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]


def cached_page(request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """Return the cached response for this URL, or ``render()`` it and keep it when it is a 200.

    A page is kept with the version it was rendered at; one read fetches it and
    the current version together, and a page from an older version is rendered
    anew. A bump during a render leaves that render stale, so it is not served twice.
    """
    if settings.SITE_CACHE_SECONDS <= 0:  # the cache is off: every request renders its page
        return render()
    key = _key(request)
    found = cache.get_many([VERSION_KEY, key])
    current = str(found[VERSION_KEY]) if VERSION_KEY in found else _start_version()
    kept = found.get(key)
    if kept is not None and kept[0] == current:
        _version, content_type, content = kept
        response = HttpResponse(content, content_type=content_type)
        response["X-Site-Cache"] = "hit"
    else:
        response = render()
        if response.status_code == 200:
            value = (current, response["Content-Type"], response.content)
            cache.set(key, value, settings.SITE_CACHE_SECONDS)
        response["X-Site-Cache"] = "miss"
    if response.status_code == 200:
        patch_cache_control(response, public=True, max_age=settings.SITE_BROWSER_CACHE_SECONDS)
    return response
