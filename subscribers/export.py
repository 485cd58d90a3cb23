"""A subscriber's copy of everything stored about them (the preference centre's "Download my data")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from subscribers.models import Subscriber


def subscriber_export(*, subscriber: Subscriber) -> dict[str, Any]:
    """Return everything stored about a subscriber, as JSON-ready data."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "created_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "unsubscribed_at": _when(subscriber.unsubscribed_at),
        "suppressed_reason": subscriber.suppressed_reason,
        "preferences": _preferences(subscriber),
        "saved_searches": _saved_searches(subscriber),
        "consent_records": _consent_records(subscriber),
        "feedback": _feedback(subscriber),
        "deliveries": _deliveries(subscriber),
        "link_emails": _link_emails(subscriber),
        "events": _events(subscriber),
    }


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _preferences(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "topics": [{"slug": t.slug, "name": t.name} for t in subscriber.topics.order_by("position")],
        "keywords": subscriber.keywords,
        "excluded_keywords": subscriber.excluded_keywords,
        "authors": subscriber.authors,
        "cadence": subscriber.cadence,
        "timezone": subscriber.timezone,
        "send_hour": subscriber.send_hour,
        "send_weekday": subscriber.get_send_weekday_display(),
        "max_papers": subscriber.max_papers,
        "categories": subscriber.categories,
        "include_crosslists": subscriber.include_crosslists,
    }


def _saved_searches(subscriber: Subscriber) -> list[dict[str, Any]]:
    return [
        {"query": saved.query, "filters": saved.filters, "created_at": _when(saved.created_at)}
        for saved in subscriber.saved_searches.all()
    ]


def _consent_records(subscriber: Subscriber) -> list[dict[str, Any]]:
    """Return each sign-up: the words agreed to, what it asked for, and when and from where it came."""
    return [
        {
            "form": consent.form_id,
            "wording_version": consent.wording_version,
            "wording": consent.wording,
            "requested_preferences": consent.requested_preferences,
            "submitted_at": _when(consent.submitted_at),
            "submitted_ip": consent.submitted_ip,
            "submitted_user_agent": consent.submitted_user_agent,
            "confirmed_at": _when(consent.confirmed_at),
            "confirmed_ip": consent.confirmed_ip,
            "confirmed_user_agent": consent.confirmed_user_agent,
        }
        for consent in subscriber.consents.order_by("submitted_at")
    ]


def _feedback(subscriber: Subscriber) -> list[dict[str, Any]]:
    return [
        {
            "paper": f.paper.arxiv_id,
            "title": f.paper.title,
            "value": f.get_value_display(),
            "at": _when(f.created_at),
        }
        for f in subscriber.feedback.select_related("paper").order_by("created_at")
    ]


def _deliveries(subscriber: Subscriber) -> list[dict[str, Any]]:
    """Return each digest made for the subscriber, with its papers (read through the reverse relation)."""
    deliveries = (
        subscriber.deliveries.select_related("edition")
        .prefetch_related("items__paper")
        .order_by("created_at")
    )
    return [
        {
            "edition": str(d.edition),
            "state": d.state,
            "sent_at": _when(d.sent_at),
            "papers": [i.paper.arxiv_id for i in d.items.all()],
        }
        for d in deliveries
    ]


def _link_emails(subscriber: Subscriber) -> list[dict[str, Any]]:
    return [
        {
            "kind": row.kind,
            "state": row.state,
            "created_at": _when(row.created_at),
            "sent_at": _when(row.sent_at),
            "attempts": row.attempts,
            "last_error": row.last_error,
        }
        for row in subscriber.link_emails.order_by("created_at", "id")
    ]


def _events(subscriber: Subscriber) -> list[dict[str, Any]]:
    return [
        {"kind": event.kind, "at": _when(event.at), "ip": event.ip, "detail": event.detail}
        for event in subscriber.events.order_by("at", "id")
    ]
