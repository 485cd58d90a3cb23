"""never_cache: the headers Django's decorator gives, written directly when the response has none."""

from __future__ import annotations

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory
from django.views.decorators.cache import never_cache as djangos_never_cache

from newsletter.decorators import never_cache


@pytest.mark.parametrize(
    "own_headers",
    [
        {},
        {"Cache-Control": "public, max-age=600"},
        {"Cache-Control": "no-transform"},
        {"Expires": "Thu, 01 Jan 2099 00:00:00 GMT"},
    ],
)
@time_machine.travel("2026-11-29 12:00:00 +0000", tick=False)
def test_never_cache_gives_what_djangos_gives(own_headers: dict[str, str]) -> None:
    def view(request: object) -> HttpResponse:
        return HttpResponse("page", headers=own_headers)

    request = RequestFactory().get("/")
    ours = never_cache(view)(request)
    djangos = djangos_never_cache(view)(request)

    assert dict(ours.headers) == dict(djangos.headers)
    assert ours["Expires"] == own_headers.get("Expires", "Sun, 29 Nov 2026 12:00:00 GMT")
