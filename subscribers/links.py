"""Absolute links that identify a subscriber by a signed token (for emails and pages)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber: Subscriber, consent_id: int) -> str:
    token = make_token(
        Purpose.CONFIRM, subscriber_id=subscriber.pk, email=subscriber.email, consent_id=consent_id
    )
    return absolute(reverse("subscribers:confirm", args=[token]))


def manage_path(subscriber: Subscriber) -> str:
    """Return the site-relative preference-centre link (for pages; emails need manage_url)."""
    token = make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)
    return reverse("subscribers:manage", args=[token])


def manage_url(subscriber: Subscriber) -> str:
    return absolute(manage_path(subscriber))


def feed_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.FEED, subscriber_id=subscriber.pk, email=subscriber.email)
    return absolute(f"/feed/{token}/")


def unsubscribe_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=subscriber.pk, email=subscriber.email)
    return absolute(reverse("subscribers:unsubscribe", args=[token]))
