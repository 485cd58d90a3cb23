"""Throttled admin sign-in (django-axes): two limits, and the page a locked-out person sees."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginThrottle(AxesDatabaseHandler):
    """Axes' database handler, with a second, higher limit on one username's failures from any address.

    AXES_LOCKOUT_PARAMETERS lists (username, address) first and, when that limit is on, the
    username alone second. Axes compares the largest count with its one AXES_FAILURE_LIMIT, so
    the username's count is reported as reaching it only once it reaches its own limit: one
    address gets a few tries, many addresses together a few more, and no more.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        by_address = counts[0] if counts else 0
        by_username = counts[1] if len(counts) > 1 else 0
        if by_username >= settings.ADMIN_LOGIN_USERNAME_FAILURE_LIMIT > 0:
            return max(by_address, get_failure_limit(request, credentials))
        return by_address


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """Return the 429 page for a locked-out sign-in, saying when to try again."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed sign-ins",
        "is_nav_sidebar_enabled": False,
        "minutes": max(1, round(seconds / 60)),
    }
    response = render(request, "admin/locked_out.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
