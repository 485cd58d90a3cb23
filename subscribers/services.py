"""Writes on a subscription: preferences, pause and unsubscribe, suppression, erasure, and ratings.

Signing up and confirming are in ``subscribers.signup``, which builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from papers.models import Paper, Topic
from subscribers import links, training
from subscribers.addresses import canonical_email
from subscribers.models import Feedback, Subscriber, SubscriberEvent, Suppression
from subscribers.preferences import Preferences
from subscribers.tokens import email_hash


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, for the consent record and the event log."""

    ip: str | None = None
    user_agent: str = ""


def event_record(subscriber: Subscriber, kind: str, *, ip: str | None = None, **detail: Any) -> None:
    """Add an entry to the subscriber's event log (what happened, from where, with what detail)."""
    SubscriberEvent.objects.create(subscriber=subscriber, kind=kind, ip=ip, detail=detail)


def preferences_apply(*, subscriber: Subscriber, preferences: Preferences) -> None:
    """Store ``preferences`` on the subscriber (a ``max_papers`` of None keeps the stored one)."""
    subscriber.keywords = preferences.keywords
    subscriber.excluded_keywords = preferences.excluded_keywords
    subscriber.authors = preferences.authors
    subscriber.cadence = preferences.cadence
    subscriber.timezone = preferences.timezone
    subscriber.send_hour = preferences.send_hour
    subscriber.send_weekday = preferences.send_weekday
    subscriber.categories = preferences.categories
    subscriber.include_crosslists = preferences.include_crosslists
    if preferences.max_papers is not None:
        subscriber.max_papers = preferences.max_papers
    subscriber.save()
    subscriber.topics.set(Topic.objects.filter(slug__in=preferences.topics, active=True))


def subscriber_update_preferences(
    *, subscriber: Subscriber, preferences: Preferences, request: RequestInfo
) -> bool:
    """Save new preferences; return whether anything changed (an event records what)."""
    with transaction.atomic():
        before = Preferences.of(subscriber)
        if before == preferences:
            return False
        preferences_apply(subscriber=subscriber, preferences=preferences)
        changed = {
            name: {"from": getattr(before, name), "to": getattr(preferences, name)}
            for name in Preferences.__dataclass_fields__
            if getattr(before, name) != getattr(preferences, name)
        }
        event_record(subscriber, SubscriberEvent.Kind.PREFERENCES_CHANGED, ip=request.ip, changed=changed)
        training.retrain_after_commit(subscriber.pk)
    return True


def _set_status(
    subscriber: Subscriber, *, allowed_from: set[str], to: str, event: str, request: RequestInfo
) -> bool:
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status not in allowed_from:
            return False
        locked.status = to
        fields = ["status"]
        if to == Subscriber.Status.UNSUBSCRIBED:
            locked.unsubscribed_at = timezone.now()
            fields.append("unsubscribed_at")
        locked.save(update_fields=fields)
        event_record(locked, event, ip=request.ip, previous=subscriber.status)
    subscriber.status = locked.status
    subscriber.unsubscribed_at = locked.unsubscribed_at
    return True


def subscriber_pause(*, subscriber: Subscriber, request: RequestInfo) -> bool:
    """Pause digests; return whether the status changed."""
    return _set_status(
        subscriber,
        allowed_from={Subscriber.Status.ACTIVE},
        to=Subscriber.Status.PAUSED,
        event=SubscriberEvent.Kind.PAUSED,
        request=request,
    )


def subscriber_resume(*, subscriber: Subscriber, request: RequestInfo) -> bool:
    """Resume a paused subscription; return whether the status changed."""
    return _set_status(
        subscriber,
        allowed_from={Subscriber.Status.PAUSED},
        to=Subscriber.Status.ACTIVE,
        event=SubscriberEvent.Kind.RESUMED,
        request=request,
    )


def subscriber_unsubscribe(*, subscriber: Subscriber, request: RequestInfo, via: str = "link") -> bool:
    """Stop all mail to this subscriber at once; return whether the status changed."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status in (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.SUPPRESSED):
            return False
        previous = locked.status
        locked.status = Subscriber.Status.UNSUBSCRIBED
        locked.unsubscribed_at = timezone.now()
        locked.save(update_fields=["status", "unsubscribed_at"])
        event_record(locked, SubscriberEvent.Kind.UNSUBSCRIBED, ip=request.ip, previous=previous, via=via)
    subscriber.status, subscriber.unsubscribed_at = locked.status, locked.unsubscribed_at
    return True


def subscriber_suppress(*, email: str, reason: str, detail: dict[str, Any] | None = None) -> bool:
    """Put an address on the suppression list and stop its mail; return whether it was new."""
    email = canonical_email(email)
    with transaction.atomic():
        _, created = Suppression.objects.get_or_create(
            email_hash=email_hash(email), defaults={"reason": reason}
        )
        subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
        if subscriber is not None and subscriber.status != Subscriber.Status.SUPPRESSED:
            previous = subscriber.status
            subscriber.status = Subscriber.Status.SUPPRESSED
            subscriber.suppressed_reason = reason
            subscriber.save(update_fields=["status", "suppressed_reason"])
            event_record(
                subscriber,
                SubscriberEvent.Kind.SUPPRESSED,
                reason=reason,
                previous=previous,
                **(detail or {}),
            )
    return created


def subscriber_erase(*, subscriber: Subscriber) -> None:
    """Delete everything stored about a subscriber, keeping only the keyed hash of the address.

    The hash, on the suppression list, is what stops the address being mailed
    again by mistake; signing up again and confirming lifts it. A suppression
    already there (a bounce, a complaint) keeps its reason: it still stops all mail.
    """
    with transaction.atomic():
        Suppression.objects.get_or_create(
            email_hash=email_hash(subscriber.email), defaults={"reason": Suppression.Reason.ERASED}
        )
        subscriber.delete()


def feedback_record(
    *, subscriber: Subscriber, paper: Paper, value: int, source: str = Feedback.Source.DIGEST
) -> Feedback:
    """Record "more" (+1) or "less" (-1) like this paper; the latest choice replaces an earlier one.

    ``source`` says where: a digest's link, a seed paper the reader gave, or the site.
    """
    feedback, _ = Feedback.objects.update_or_create(
        subscriber=subscriber,
        paper=paper,
        defaults={"value": value, "source": source, "created_at": timezone.now()},
    )
    training.retrain_after_commit(subscriber.pk)
    return feedback


def feedback_seed(*, subscriber: Subscriber, papers: list[Paper], request: RequestInfo) -> int:
    """Store each paper as one the subscriber likes (a seed); return how many were not liked already.

    A paper liked already keeps its rating and where it came from.
    """
    liked = set(
        subscriber.feedback.filter(paper__in=papers, value=Feedback.Value.MORE).values_list(
            "paper_id", flat=True
        )
    )
    added = [paper for paper in papers if paper.pk not in liked]
    with transaction.atomic():
        for paper in added:
            feedback_record(
                subscriber=subscriber, paper=paper, value=Feedback.Value.MORE, source=Feedback.Source.SEED
            )
        if added:
            event_record(
                subscriber,
                SubscriberEvent.Kind.PREFERENCES_CHANGED,
                ip=request.ip,
                seed_papers_added=[paper.arxiv_id for paper in added],
            )
    return len(added)


def feedback_remove(*, subscriber: Subscriber, paper: Paper) -> bool:
    """Forget the subscriber's rating of one paper (an undo); return whether there was one.

    Their model is retrained without it, so an undone like neither orders their digest nor names itself
    in a why-line.
    """
    removed = Feedback.objects.filter(subscriber=subscriber, paper=paper).delete()[0] > 0
    if removed:
        training.retrain_after_commit(subscriber.pk)
    return removed


def feedback_reset(*, subscriber: Subscriber, request: RequestInfo) -> int:
    """Forget all of a subscriber's feedback; return how many choices were removed."""
    removed = Feedback.objects.filter(subscriber=subscriber).delete()[0]
    if removed:
        event_record(
            subscriber, SubscriberEvent.Kind.PREFERENCES_CHANGED, ip=request.ip, feedback_reset=removed
        )
        training.retrain_after_commit(subscriber.pk)
    return removed


def unsubscribe_headers(*, subscriber: Subscriber, url: str = "") -> dict[str, str]:
    """Return the RFC 8058 one-click unsubscribe headers for mail to ``subscriber``.

    ``url`` is the subscriber's unsubscribe URL when the caller has already signed it.
    """
    return {
        "List-Unsubscribe": f"<{url or links.unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
