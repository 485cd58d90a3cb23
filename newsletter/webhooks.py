"""Anymail's tracking signal, handed to the service that records and acts on provider events."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern

from newsletter import tracking as digest_tracking

logger = logging.getLogger(__name__)


def _guard(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 400, not 500, to a payload Anymail cannot read (providers retry 5xx forever)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
            logger.warning("webhook %s: malformed payload (%s)", request.path, error)
            return HttpResponseBadRequest("malformed webhook payload")

    return guarded


def guarded_urlpatterns() -> list[URLPattern]:
    """Return Anymail's webhook URL patterns with every view guarded against malformed payloads."""
    from anymail.urls import urlpatterns

    return [URLPattern(p.pattern, _guard(p.callback), p.default_args, p.name) for p in urlpatterns]


@receiver(tracking)
def on_tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    digest_tracking.tracking_event_record(event=event, provider=esp_name.lower())
