"""Provider events: store each tracking event once, and apply the bounce and complaint policy.

A hard bounce or a complaint suppresses the address at once; soft bounces
suppress after SOFT_BOUNCE_LIMIT within SOFT_BOUNCE_DAYS; a provider-side
unsubscribe unsubscribes. An event for a delivery still marked sending proves
the provider took it: the row is marked sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter.models import Delivery, TrackingEvent
from subscribers import services as subscriber_services
from subscribers.addresses import canonical_email
from subscribers.models import Subscriber, Suppression

PROVIDER_TOOK_IT = {
    "queued",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "deferred",
    "complained",
    "autoresponded",
}


# Where each provider says that a bounce (after its own retries) was temporary: Anymail
# normalises hard and soft bounces alike to "bounced". Paths lead into the provider's payload.
SOFT_BOUNCE_MARKERS: dict[tuple[str, ...], frozenset[object]] = {
    ("Type",): frozenset({"SoftBounce"}),  # Postmark
    ("bounce", "bounceType"): frozenset({"Transient"}),  # Amazon SES
    ("event",): frozenset({"soft_bounce"}),  # Brevo, Mandrill
    ("data", "type"): frozenset({"soft_bounced"}),  # MailerSend
    ("hard_bounce",): frozenset({False}),  # Mailjet
}
# A receiving server that refuses the sender or the content says nothing of the address:
# counting it would suppress a whole domain's readers during a blocklisting.
NOT_ABOUT_THE_ADDRESS = {"blocked", "spam"}
# A provider that refuses to send (event "rejected") names the address only for these reasons;
# its other reasons (policy, content, an unverified sender) are the sender's own problem.
REJECTED_FOR_THE_ADDRESS = {"invalid": "hard", "bounced": "hard", "timed_out": "soft"}


def bounce_class(event: AnymailTrackingEvent) -> str:
    """Return "hard", "soft" or "" (not a bounce) for a tracking event.

    Only a refusal of the address counts. A deferral is not one: the provider is
    still trying, and reports "bounced" if it gives up. A bounce whose reason the
    provider could not name counts as soft, so only a repeat suppresses.
    """
    if event.event_type == "rejected":
        return REJECTED_FOR_THE_ADDRESS.get(event.reject_reason or "", "")
    if event.event_type != "bounced" or event.reject_reason in NOT_ABOUT_THE_ADDRESS:
        return ""
    if event.reject_reason in {"timed_out", "other"} or _marked_soft(event.esp_event):
        return "soft"
    return "hard"


def _marked_soft(payload: object) -> bool:
    """Return whether a provider's bounce payload says the failure was temporary."""
    for path, values in SOFT_BOUNCE_MARKERS.items():
        value = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str | bool) and value in values:  # not 0 for False, nor an unhashable list
            return True
    return False


def tracking_event_record(*, event: AnymailTrackingEvent, provider: str) -> TrackingEvent | None:
    """Store a provider's tracking event once, and act on it; return None for a repeat."""
    # Everything from the payload is cleaned before it reaches a query (PostgreSQL refuses NUL).
    recipient = canonical_email(str(_storable(str(event.recipient or ""))))
    delivery = None
    delivery_id = str((event.metadata or {}).get("delivery_id", ""))
    if delivery_id.isdigit():
        delivery = Delivery.objects.filter(pk=int(delivery_id)).select_related("subscriber").first()
    subscriber = delivery.subscriber if delivery else Subscriber.objects.filter(email=recipient).first()
    stored = _store(event, provider, recipient=recipient, delivery=delivery, subscriber=subscriber)
    if stored is None:
        return None  # providers retry: this event was handled already
    if delivery is not None and event.event_type in PROVIDER_TOOK_IT:
        _mark_delivery(delivery, stored)
    if recipient:
        _apply_policy(stored, provider=provider, subscriber=subscriber)
    return stored


def _store(
    event: AnymailTrackingEvent,
    provider: str,
    *,
    recipient: str,
    delivery: Delivery | None,
    subscriber: Subscriber | None,
) -> TrackingEvent | None:
    """Store the event; return None if this provider's event id was stored before."""
    event_id = str(_storable(str(event.event_id or ""))) or _synthetic_event_id(event, provider)
    try:
        with transaction.atomic():
            return TrackingEvent.objects.create(
                provider=provider,
                event_id=event_id[:255],
                event_type=str(_storable(event.event_type or "unknown"))[:32],
                reject_reason=str(_storable(event.reject_reason or ""))[:32],
                bounce=bounce_class(event),
                recipient=recipient[:254],
                message_id=str(_storable(str(event.message_id or "")))[:255],
                delivery=delivery,
                subscriber=subscriber,
                occurred_at=event.timestamp or timezone.now(),
                description=str(_storable(event.description or event.mta_response or ""))[:2000],
                raw=_storable(event.esp_event) if isinstance(event.esp_event, dict) else {},
            )
    except IntegrityError:
        return None


def _mark_delivery(delivery: Delivery, stored: TrackingEvent) -> None:
    """The provider has the message: a row still marked sending or pending was sent."""
    Delivery.objects.filter(
        pk=delivery.pk, state__in=[Delivery.State.SENDING, Delivery.State.PENDING]
    ).update(state=Delivery.State.SENT, sent_at=stored.occurred_at, message_id=stored.message_id)
    if stored.event_type == "delivered":
        Delivery.objects.filter(pk=delivery.pk).update(delivered_at=stored.occurred_at)
    if stored.bounce:
        Delivery.objects.filter(pk=delivery.pk).update(bounced_at=stored.occurred_at)


def _apply_policy(stored: TrackingEvent, *, provider: str, subscriber: Subscriber | None) -> None:
    """Suppress or unsubscribe the recipient as the event calls for."""
    recipient = stored.recipient
    if stored.event_type == "complained":
        subscriber_services.subscriber_suppress(
            email=recipient, reason=Suppression.Reason.COMPLAINT, detail={"event": stored.pk}
        )
    elif stored.bounce == "hard":
        subscriber_services.subscriber_suppress(
            email=recipient, reason=Suppression.Reason.HARD_BOUNCE, detail={"event": stored.pk}
        )
    elif stored.bounce == "soft":
        since = timezone.now() - dt.timedelta(days=settings.SOFT_BOUNCE_DAYS)
        soft = TrackingEvent.objects.filter(
            recipient=recipient, bounce="soft", occurred_at__gte=since
        ).count()
        if soft >= settings.SOFT_BOUNCE_LIMIT:
            subscriber_services.subscriber_suppress(
                email=recipient, reason=Suppression.Reason.SOFT_BOUNCES, detail={"soft_bounces": soft}
            )
    elif stored.event_type == "unsubscribed" and subscriber is not None:
        subscriber_services.subscriber_unsubscribe(
            subscriber=subscriber, request=subscriber_services.RequestInfo(), via=f"{provider} unsubscribe"
        )


def _storable(value: object) -> object:
    """Return ``value`` without what PostgreSQL text and jsonb cannot hold: NUL, NaN, infinities."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _synthetic_event_id(event: AnymailTrackingEvent, provider: str) -> str:
    """Return an id for an event the provider gave none: the same event retried gets the same id."""
    parts = [
        provider,
        event.event_type or "",
        str(event.timestamp or ""),
        event.recipient or "",
        str(event.message_id or ""),
    ]
    return "synthetic:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
