"""Absolute links that identify a subscriber by a signed token (for emails and pages), and route paths."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from subscribers.models import Subscriber
from subscribers.tokens import Purpose, address_tag, make_token


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def token_path(name: str, token: str) -> str:
    """Return the path of the named route that takes ``token``."""
    return reverse(name, args=[token])


def route_path(name: str) -> str:
    """Return the path of the named route that takes nothing."""
    return reverse(name)


@dataclass(frozen=True)
class MailLinks:
    """The signed links a digest carries for its subscriber."""

    manage_url: str
    unsubscribe_url: str
    feed_url: str
    delivery_token: str


@dataclass(frozen=True)
class MailRoutes:
    """The manage and unsubscribe paths before and after their token, reversed once for many digests."""

    manage: tuple[str, str]
    unsubscribe: tuple[str, str]

    @classmethod
    def reversed(cls) -> MailRoutes:
        return cls(
            manage=_around_token("subscribers:manage"), unsubscribe=_around_token("subscribers:unsubscribe")
        )


def _around_token(name: str) -> tuple[str, str]:
    marker = "T0KENMARKER"  # no route's own path contains it
    before, after = reverse(name, args=[marker]).split(marker)
    return before, after


def mail_links(subscriber: Subscriber, *, delivery_id: int, routes: MailRoutes | None = None) -> MailLinks:
    """Return the links of one delivery: manage, unsubscribe, feed, and the digest's own token.

    The address is hashed once for all four tokens; a sender of many digests
    reverses the routes once for all of them (``routes``).
    """
    routes = routes or MailRoutes.reversed()
    tag = address_tag(subscriber.email)
    manage = _sign(Purpose.MANAGE, subscriber, tag=tag)
    unsubscribe = _sign(Purpose.UNSUBSCRIBE, subscriber, tag=tag)
    return MailLinks(
        manage_url=absolute(manage.join(routes.manage)),
        unsubscribe_url=absolute(unsubscribe.join(routes.unsubscribe)),
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
