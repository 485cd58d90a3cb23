"""The one email module: every message papermail sends is built here, from a template set.

A template set is ``templates/emails/<name>/`` with ``body.txt`` and
``body.html`` (and ``subject.txt`` for link emails; a digest's subject names its
top paper). Every message has a text and an HTML part and goes through
Django's email API, so any backend (files, SMTP, any Anymail provider) sends it.
Digests are rendered from their set by :mod:`newsletter.rendering`, which
renders the parts many digests share once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.urls import reverse

from newsletter import candidates, planning, profiles, rendering
from newsletter.dispatch import local_time
from newsletter.models import Delivery, Edition
from papers.models import Paper
from subscribers import links
from subscribers import selectors as subscriber_selectors
from subscribers.models import ConsentRecord, Subscriber
from subscribers.services import unsubscribe_headers


def two_part_message(
    *, subject: str, text: str, html: str, to: str, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """Return a message with a text part and an HTML alternative."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def make_message(
    name: str, context: dict[str, Any], *, to: str, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """Return a two-part message rendered from the template set ``emails/<name>/``."""
    context = {"site_url": settings.SITE_URL, "postal_address": settings.POSTAL_ADDRESS, **context}
    return two_part_message(
        subject=" ".join(render_to_string(f"emails/{name}/subject.txt", context).split()),
        text=render_to_string(f"emails/{name}/body.txt", context),
        html=render_to_string(f"emails/{name}/body.html", context),
        to=to,
        headers=headers,
    )


def send_confirmation(*, subscriber: Subscriber, consent: ConsentRecord) -> bool:
    """Send the email that asks to confirm ``consent``, listing its choices; return whether it was sent.

    A subscribed address is asked to confirm the new choices instead (its
    current ones shown beside them); one whose choices they already are is only
    sent its preference-centre link.
    """
    choices = subscriber_selectors.signup_choices(subscriber=subscriber, consent=consent)
    if choices.subscribed and not choices.changes:
        return send_manage_link(subscriber=subscriber, same_choices=True)
    context = {
        "confirm_url": links.confirm_url(subscriber, consent.pk),
        "valid_days": settings.CONFIRMATION_TOKEN_MAX_AGE // 86400,
        "choices": choices,
    }
    if choices.subscribed:
        context["manage_url"] = links.manage_url(subscriber)
    name = "confirm_change" if choices.subscribed else "confirm"
    return make_message(name, context, to=subscriber.email).send() == 1


def send_manage_link(*, subscriber: Subscriber, same_choices: bool = False) -> bool:
    """Send a subscribed person the link to their preference centre; return whether it was sent.

    ``same_choices``: the email answers a sign-up that asked for the choices the subscriber has.
    """
    context = {
        "manage_url": links.manage_url(subscriber),
        "subscriber": subscriber,
        "same_choices": same_choices,
    }
    return make_message("manage_link", context, to=subscriber.email).send() == 1


# --- Digests ----------------------------------------------------------------------------------------


def digest_tag(edition: str, test: bool) -> str:
    """Return the one provider tag of a digest ("digest-daily"): Postmark takes a single tag per message."""
    return "digest-test" if test else f"digest-{edition.split(':')[0]}"


def digest_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe: dict[str, str],
    delivery_id: int,
    edition: str,
    test: bool = False,
) -> EmailMultiAlternatives:
    """Return a digest message with one-click unsubscribe headers and the delivery id as metadata."""
    # Our own Message-ID is what the outbox records when the backend (SMTP) returns none.
    headers = {
        **unsubscribe,
        "List-Id": settings.LIST_ID,
        "Message-ID": make_msgid(f"d{delivery_id}", settings.MESSAGE_ID_DOMAIN),
    }
    message = two_part_message(
        subject=f"[TEST] {subject}" if test else subject, text=text, html=html, to=to, headers=headers
    )
    # Anymail sends these to the provider, whose webhooks echo them back (reconciliation).
    message.tags = [digest_tag(edition, test)]  # type: ignore[attr-defined]
    message.metadata = {"delivery_id": str(delivery_id), "edition": edition}  # type: ignore[attr-defined]
    return message


def personal_parts(delivery: Delivery, routes: links.MailRoutes | None = None) -> rendering.Personal:
    """Return the links and address that make a digest this subscriber's own."""
    subscriber = delivery.subscriber
    signed = links.mail_links(subscriber, delivery_id=delivery.pk, routes=routes)
    return rendering.Personal(
        manage_url=signed.manage_url,
        unsubscribe_url=signed.unsubscribe_url,
        view_url=links.absolute(f"/digest/{signed.delivery_token}/"),
        feedback_base=links.absolute(f"/digest/{signed.delivery_token}/feedback/"),
        feed_url=signed.feed_url,
        email=subscriber.email,
    )


def placeholder_parts(subscriber: Subscriber) -> rendering.Personal:
    """Return inert stand-ins for a subscriber's links, for previews and test sends.

    Editors preview digests; a subscriber's signed links (manage opens their data, export and
    erasure) must never reach them. Each stand-in opens a page that says what it stands for.
    """
    base = links.absolute(reverse("preview_link", kwargs={"link": ""}))
    return rendering.Personal(
        manage_url=f"{base}manage/",
        unsubscribe_url=f"{base}unsubscribe/",
        view_url=f"{base}view/",
        feedback_base=f"{base}feedback/",
        feed_url=f"{base}feed/",
        email=subscriber.email,
    )


def edition_label(edition: Edition) -> str:
    return f"{edition.cadence}:{edition.date.isoformat()}"


@dataclass
class Digest:
    """One digest to send: its delivery and its rendered content (shared by equal digests)."""

    delivery: Delivery
    content: rendering.DigestContent
    routes: links.MailRoutes

    def message(self) -> EmailMultiAlternatives:
        """Return the digest as this subscriber's own message: links, address, unsubscribe headers."""
        delivery = self.delivery
        personal = personal_parts(delivery, self.routes)
        subject, text, html = rendering.personalise(self.content, personal)
        return digest_message(
            to=delivery.subscriber.email,
            subject=subject,
            text=text,
            html=html,
            unsubscribe=unsubscribe_headers(subscriber=delivery.subscriber, url=personal.unsubscribe_url),
            delivery_id=delivery.pk,
            edition=edition_label(delivery.edition),
        )


def chunk_digests(plan: planning.ChunkPlan) -> list[Digest]:
    """Return a digest for each delivery of a planned chunk that has papers; equal digests render once.

    Each delivery is its own message (its links are signed for it); a backend
    that takes many messages per call (Postmark's batch) sends them together.
    """
    renderer = rendering.DigestRenderer(plan.papers)
    routes = links.MailRoutes.reversed()
    contents: dict[tuple[object, ...], rendering.DigestContent] = {}
    digests: list[Digest] = []
    for planned in plan.planned:
        if planned.suppressed or planned.skip_reason or not planned.picks:
            continue
        delivery = planned.delivery
        profile = plan.profiles[delivery.subscriber_id]
        key = (delivery.edition_id, tuple((p.paper_id, p.why) for p in planned.picks), profile)
        content = contents.get(key)
        if content is None:
            content = contents[key] = renderer.render(
                edition=delivery.edition, picks=planned.picks, profile=profile
            )
        digests.append(Digest(delivery=delivery, content=content, routes=routes))
    return digests


# --- Previews ---------------------------------------------------------------------------------------


@dataclass
class Preview:
    """What a subscriber would be sent now: the plan, and the message's parts if there is one."""

    planned: planning.Planned
    items: list[tuple[Paper, candidates.Pick]] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str = ""


def digest_preview(*, subscriber: Subscriber, now: dt.datetime) -> Preview:
    """Return the digest ``subscriber`` would get at ``now``, without recording or sending anything.

    Its links are placeholders (placeholder_parts): a preview is for editors' eyes.
    """
    local_date = local_time(now, subscriber.timezone).date()
    edition = Edition.objects.filter(cadence=subscriber.cadence, date=local_date).first() or Edition(
        cadence=subscriber.cadence, date=local_date
    )
    subscriber = Subscriber.objects.prefetch_related("topics").get(pk=subscriber.pk)
    # Preview what an active subscription would get, whatever the status.
    subscriber.status = Subscriber.Status.ACTIVE
    # An unsaved delivery with an id no row has, so the plan reads history but finds no earlier attempt.
    draft = Delivery(pk=0, subscriber=subscriber, edition=edition)
    plan = planning.chunk_plan(deliveries=[draft])
    planned = plan.planned[0]
    preview = Preview(planned=planned, items=[(plan.papers[p.paper_id], p) for p in planned.picks])
    if planned.picks and not planned.suppressed:
        content = rendering.render_digest(
            edition=edition, picks=planned.picks, papers=plan.papers, profile=plan.profiles[subscriber.pk]
        )
        preview.subject, preview.text, preview.html = rendering.personalise(
            content, placeholder_parts(subscriber)
        )
    return preview


def delivery_html(*, delivery: Delivery) -> str:
    """Return the HTML of a recorded delivery, rendered as it was mailed (with real links)."""
    items = list(delivery.items.select_related("paper").order_by("position"))
    picks = [candidates.Pick(i.paper_id, i.position, i.score, i.why) for i in items]
    papers = {i.paper_id: i.paper for i in items}
    profile = profiles.profile_of(delivery.subscriber)
    content = rendering.render_digest(edition=delivery.edition, picks=picks, papers=papers, profile=profile)
    return rendering.personalise(content, personal_parts(delivery))[2]
