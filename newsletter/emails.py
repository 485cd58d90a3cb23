"""The one email module: every message papermail sends is built here from a template set.

A template set is ``templates/emails/<name>/{subject.txt, body.txt, body.html}``;
every message has a text and an HTML part and goes through Django's email API,
so any backend (files, SMTP, any Anymail provider) sends it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string

from subscribers import links
from subscribers.models import ConsentRecord, Subscriber


def make_message(
    name: str, context: dict[str, Any], *, to: str, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """Return a two-part message rendered from the template set ``emails/<name>/``."""
    context = {"site_url": settings.SITE_URL, "postal_address": settings.POSTAL_ADDRESS, **context}
    subject = " ".join(render_to_string(f"emails/{name}/subject.txt", context).split())
    text = render_to_string(f"emails/{name}/body.txt", context)
    html = render_to_string(f"emails/{name}/body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def send_confirmation(*, subscriber: Subscriber, consent: ConsentRecord) -> bool:
    """Send the double opt-in email for ``consent``; return whether it was sent."""
    context = {
        "confirm_url": links.confirm_url(subscriber, consent.pk),
        "valid_days": settings.CONFIRMATION_TOKEN_MAX_AGE // 86400,
        "preferences": consent.requested_preferences,
    }
    return make_message("confirm", context, to=subscriber.email).send() == 1


def send_manage_link(*, subscriber: Subscriber) -> bool:
    """Send a subscribed person the link to their preference centre; return whether it was sent."""
    context = {"manage_url": links.manage_url(subscriber), "subscriber": subscriber}
    return make_message("manage_link", context, to=subscriber.email).send() == 1


def digest_tag(edition: str, test: bool) -> str:
    """Return the one provider tag of a digest ("digest-daily"): Postmark takes a single tag per message."""
    return "digest-test" if test else f"digest-{edition.split(':')[0]}"


def digest_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe_headers: dict[str, str],
    delivery_id: int,
    edition: str,
    test: bool = False,
) -> EmailMultiAlternatives:
    """Return a digest message with one-click unsubscribe headers and the delivery id as metadata."""
    # Our own Message-ID is what the outbox records when the backend (SMTP) returns none.
    headers = {
        **unsubscribe_headers,
        "List-Id": settings.LIST_ID,
        "Message-ID": make_msgid(f"d{delivery_id}", settings.MESSAGE_ID_DOMAIN),
    }
    message = EmailMultiAlternatives(
        subject=f"[TEST] {subject}" if test else subject, body=text, to=[to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    # Anymail sends these to the provider, whose webhooks echo them back (reconciliation).
    message.tags = [digest_tag(edition, test)]  # type: ignore[attr-defined]
    message.metadata = {"delivery_id": str(delivery_id), "edition": edition}  # type: ignore[attr-defined]
    return message
