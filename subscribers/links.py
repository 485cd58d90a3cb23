"""Absolute links that identify a subscriber by a signed token (for emails and pages), and route paths.

Routes are reversed once per script prefix, not per digest or request.
"""

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
def _route(name: str, prefix: str, *, token: bool) -> tuple[str, str]:
    """Return what comes before and after the token in a route's path (reversed once, not per digest).

    A route without a token is all before.
    """
    if not token:
        return reverse(name), ""
    marker = "T0KENMARKER"
    before, after = reverse(name, args=[marker]).split(marker)
    return before, after


def token_path(name: str, token: str) -> str:
    """Return the path of the named route that takes ``token``, as reverse() would."""
    before, after = _route(name, get_script_prefix(), token=True)
    return f"{before}{token}{after}"


def route_path(name: str) -> str:
    """Return the path of the named route that takes nothing, as reverse() would.

    Reversing "check your inbox" in each request cost about 5% of a sign-up's
    CPU (in-process, alternated blocks).
    """
    return _route(name, get_script_prefix(), token=False)[0]


@dataclass(frozen=True)
class MailLinks:
    """The signed links a digest carries for its subscriber."""

    manage_url: str
    unsubscribe_url: str
    feed_url: str
    delivery_token: str


def mail_links(subscriber: Subscriber, *, delivery_id: int) -> MailLinks:
    """Return the links of one delivery: manage, unsubscribe, feed, and the digest's own token.

    The address is hashed once for all four tokens and routes are reversed once
    per process: a dispatch signs four tokens for each of thousands of digests.
    """
    tag = address_tag(subscriber.email)
    return MailLinks(
        manage_url=manage_url(subscriber, tag=tag),
        unsubscribe_url=unsubscribe_url(subscriber, tag=tag),
        feed_url=feed_url(subscriber, tag=tag),
        delivery_token=_sign(Purpose.DELIVERY, subscriber, tag=tag, delivery_id=delivery_id),
    )


def _sign(purpose: Purpose, subscriber: Subscriber, *, tag: str = "", **extra: int) -> str:
    return make_token(purpose, subscriber_id=subscriber.pk, email=subscriber.email, tag=tag, **extra)


def confirm_url(subscriber: Subscriber, consent_id: int) -> str:
    return absolute(
        token_path("subscribers:confirm", _sign(Purpose.CONFIRM, subscriber, consent_id=consent_id))
    )


def manage_path(subscriber: Subscriber, *, tag: str = "") -> str:
    """Return the site-relative preference-centre link (for pages; emails need manage_url)."""
    return token_path("subscribers:manage", _sign(Purpose.MANAGE, subscriber, tag=tag))


def manage_url(subscriber: Subscriber, *, tag: str = "") -> str:
    return absolute(manage_path(subscriber, tag=tag))


def feed_url(subscriber: Subscriber, *, tag: str = "") -> str:
    return absolute(f"/feed/{_sign(Purpose.FEED, subscriber, tag=tag)}/")


def unsubscribe_url(subscriber: Subscriber, *, tag: str = "") -> str:
    return absolute(token_path("subscribers:unsubscribe", _sign(Purpose.UNSUBSCRIBE, subscriber, tag=tag)))
