"""Site-wide pages: the home page and the health check."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from newsletter.celery import app as celery_app
from papers import selectors as paper_selectors
from subscribers.forms import SignupForm

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    papers = paper_selectors.papers_latest(limit=50)
    return render(request, "home.html", {"papers": papers, "signup_form": SignupForm()})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("health check: broker unreachable", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {
        k: "ok" if v else "unreachable" for k, v in checks.items()
    }
    return JsonResponse(body, status=200 if healthy else 503)
