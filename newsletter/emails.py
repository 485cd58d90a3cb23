"""The one email module: every message papermail sends is built here from a template set.

A template set is ``templates/emails/<name>/{subject.txt, body.txt, body.html}``;
every message has a text and an HTML part and goes through Django's email API,
so any backend (files, SMTP, any Anymail provider) sends it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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
