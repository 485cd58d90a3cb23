"""Absolute links that identify a subscriber by a signed token (for emails and pages)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, reverse

from subscribers.models import Subscriber
from subscribers.tokens import Purpose, address_tag, make_token


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@lru_cache(maxsize=64)
def _route(name: str, prefix: str) -> tuple[str, str]:
    """Return what comes before and after the token in a route's path (reversed once, not per digest)."""
    marker = "T0KENMARKER"
    before, after = reverse(name, args=[marker]).split(marker)
    return before, after


def token_path(name: str, token: str) -> str:
    """Return the path of the named route that takes ``token``, as reverse() would."""
    before, after = _route(name, get_script_prefix())
    return f"{before}{token}{after}"


@dataclass(frozen=True)
class MailLinks:
    """The signed links a digest carries for its subscriber."""

    manage_url: str
    unsubscribe_url: str
    feed_url: str
    delivery_token: str


def mail_links(*, subscriber_id: int, email: str, delivery_id: int) -> MailLinks:
    """Return the links of one delivery: manage, unsubscribe, feed, and the digest's own token.

    The address is hashed once for all four tokens and routes are reversed once
    per process: a dispatch signs four tokens for each of thousands of digests.
    """
    tag = address_tag(email)

    def sign(purpose: Purpose, **extra: int) -> str:
        return make_token(purpose, subscriber_id=subscriber_id, email=email, tag=tag, **extra)

    return MailLinks(
        manage_url=absolute(token_path("subscribers:manage", sign(Purpose.MANAGE))),
        unsubscribe_url=absolute(token_path("subscribers:unsubscribe", sign(Purpose.UNSUBSCRIBE))),
        feed_url=absolute(f"/feed/{sign(Purpose.FEED)}/"),
        delivery_token=sign(Purpose.DELIVERY, delivery_id=delivery_id),
    )


def confirm_url(subscriber: Subscriber, consent_id: int) -> str:
    token = make_token(
        Purpose.CONFIRM, subscriber_id=subscriber.pk, email=subscriber.email, consent_id=consent_id
    )
    return absolute(reverse("subscribers:confirm", args=[token]))


def manage_path(subscriber: Subscriber) -> str:
    """Return the site-relative preference-centre link (for pages; emails need manage_url)."""
    token = make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)
    return token_path("subscribers:manage", token)


def manage_url(subscriber: Subscriber) -> str:
    return absolute(manage_path(subscriber))


def feed_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.FEED, subscriber_id=subscriber.pk, email=subscriber.email)
    return absolute(f"/feed/{token}/")


def unsubscribe_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=subscriber.pk, email=subscriber.email)
    return absolute(token_path("subscribers:unsubscribe", token))
