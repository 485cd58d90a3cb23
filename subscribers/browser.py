"""Recognising a subscriber on the site, in the browser where they opened their preference centre.

Opening the signed preference-centre link (from any email) leaves a cookie
holding a signed token of its own purpose; the site's "Get papers like this"
then adds the paper to that reader's liked papers with one button press
instead of sending them to sign up again. The cookie is HttpOnly, sent only
to this site on top-level navigation (SameSite=Lax) and over HTTPS in
production, expires after READER_COOKIE_MAX_AGE, and stops working when the
address is erased (the token carries its address tag). It can add a seed
paper and nothing else: every other change still needs the emailed link.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from subscribers import selectors
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, make_token

COOKIE = "papermail_reader"
RECOGNISED_STATES = (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED)


def remember(response: HttpResponse, subscriber: Subscriber) -> None:
    """Have this browser recognise ``subscriber`` on the site from now on."""
    response.set_cookie(
        COOKIE,
        make_token(Purpose.BROWSER, subscriber_id=subscriber.pk, email=subscriber.email),
        max_age=settings.READER_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def recognised(request: HttpRequest) -> Subscriber | None:
    """Return the active or paused subscriber this browser was left by, or None."""
    token = request.COOKIES.get(COOKIE, "")
    if not token or len(token) > 500:
        return None
    try:
        subscriber = selectors.subscriber_for(Purpose.BROWSER, token)
    except (TokenExpired, TokenInvalid):
        return None
    if subscriber is None or subscriber.status not in RECOGNISED_STATES:
        return None
    return subscriber


def forget(response: HttpResponse) -> None:
    """Have this browser recognise no one."""
    response.delete_cookie(COOKIE, samesite="Lax")


def masked(email: str) -> str:
    """Return the address as a reminder that does not spell it out: ``j…e@example.org``."""
    local, _, domain = email.rpartition("@")
    shown = local[0] + "…" + local[-1] if len(local) > 2 else local[:1] + "…"
    return f"{shown}@{domain}"
