"""Writes for subscriptions: sign-up, double opt-in, preferences, pause, unsubscribe, erasure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from papers.db import insert_new_with_children
from papers.models import Paper, Topic
from subscribers import links, ratelimit, searches, selectors, training
from subscribers.addresses import canonical_email
from subscribers.models import (
    ConsentRecord,
    Feedback,
    LinkEmail,
    Subscriber,
    SubscriberEvent,
    Suppression,
)
from subscribers.preferences import Preferences, SignupExtras
from subscribers.tokens import email_hash

logger = logging.getLogger(__name__)

# The form and the words a person agrees to; bump the version when the words change.
SIGNUP_FORM_ID = "signup-web"
CONSENT_WORDING_VERSION = "2026-11-v1"
CONSENT_WORDING = (
    "Send me a digest of new research papers matching these preferences, by email, at the "
    "cadence I chose. I can change my preferences, pause or unsubscribe at any time with one "
    "click from any email."
)


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, for the consent record and the event log."""

    ip: str | None = None
    user_agent: str = ""


def _event(subscriber: Subscriber, kind: str, *, ip: str | None = None, **detail: Any) -> None:
    SubscriberEvent.objects.create(subscriber=subscriber, kind=kind, ip=ip, detail=detail)


def _apply_preferences(subscriber: Subscriber, preferences: Preferences) -> None:
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


# --- Sign-up and double opt-in ----------------------------------------------------------------


def subscription_request(
    *, email: str, preferences: Preferences, request: RequestInfo, extras: SignupExtras | None = None
) -> None:
    """Handle a sign-up; the caller shows the same page whatever happens here.

    Nothing changes until the address's owner confirms: the requested
    preferences wait on the consent record, and its confirmation link applies
    them (``subscriber_confirm``). A new, pending, unsubscribed or suppressed
    address is asked to confirm its subscription; an active or paused one is
    asked to confirm the new choices (or, when they are its choices already,
    sent its preference-centre link). Emails per address are rate-limited.
    ``extras`` (papers the person likes, searches to follow) wait on the
    consent record with the preferences and apply on confirmation.
    """
    email = canonical_email(email)
    may_email = _may_email(email)
    fields = _consent_fields(preferences, request, extras or SignupExtras())
    if connection.vendor == "postgresql" and _new_address_signup(email, fields, request, may_email):
        return
    with transaction.atomic():
        subscriber, created = Subscriber.objects.select_for_update().get_or_create(email=email)
        consent = ConsentRecord.objects.create(subscriber=subscriber, **fields)
        _event(
            subscriber, SubscriberEvent.Kind.SUBSCRIBED, ip=request.ip, new=created, status=subscriber.status
        )
        if may_email:
            _owe_link_email(subscriber, LinkEmail.Kind.CONFIRMATION, consent=consent)


def _consent_fields(preferences: Preferences, request: RequestInfo, extras: SignupExtras) -> dict[str, Any]:
    return {
        "form_id": SIGNUP_FORM_ID,
        "wording_version": CONSENT_WORDING_VERSION,
        "wording": CONSENT_WORDING,
        "requested_preferences": {**preferences.as_dict(), **extras.as_dict()},
        "submitted_ip": request.ip,
        "submitted_user_agent": request.user_agent[:400],
    }


def _new_address_signup(
    email: str, consent_fields: dict[str, Any], request: RequestInfo, may_email: bool
) -> bool:
    """Store a sign-up from an address never seen before in one statement; False if it is known.

    It writes what the general path writes for a new address (subscriber,
    consent record, event, owed confirmation) without its five round trips in
    a transaction: most of a sign-up's time under load. PostgreSQL only.
    """
    rows: list[tuple[type[models.Model], dict[str, object], dict[str, int]]] = [
        (Subscriber, {"email": email}, {}),
        (ConsentRecord, consent_fields, {"subscriber": 0}),
        (
            SubscriberEvent,
            {
                "kind": SubscriberEvent.Kind.SUBSCRIBED,
                "ip": request.ip,
                "detail": {"new": True, "status": Subscriber.Status.PENDING},
            },
            {"subscriber": 0},
        ),
    ]
    if may_email:
        rows.append((LinkEmail, {"kind": LinkEmail.Kind.CONFIRMATION}, {"subscriber": 0, "consent": 1}))
    return insert_new_with_children(rows, unique="email") is not None


def _may_email(email: str) -> bool:
    allowed = not ratelimit.over_limit("link-email", email, settings.RATE_LINK_EMAILS_PER_ADDRESS)
    if not allowed:
        logger.info("link email to an address held back by its rate limit")
    return allowed


# --- Link emails: the outbox for emails a person asked for -------------------------------------------


# How long a worker holds a link email it is sending before another may try it.
def _owe_link_email(subscriber: Subscriber, kind: str, *, consent: ConsentRecord | None = None) -> None:
    """Record the email in the caller's transaction: beat's sweep sends it within seconds.

    The request never talks to the broker, so a sign-up is answered the same
    whether Redis is up or down, and costs one row.
    """
    LinkEmail.objects.create(subscriber=subscriber, kind=kind, consent=consent)


@dataclass(frozen=True)
class ConfirmOutcome:
    subscriber: Subscriber
    already_confirmed: bool
    superseded: bool = False  # a newer sign-up was confirmed first: this one changed nothing
    was_subscribed: bool = False  # the address was active or paused: the sign-up changed its choices


def subscriber_confirm(
    *, subscriber: Subscriber, consent_id: int | None, request: RequestInfo
) -> ConfirmOutcome:
    """Confirm a subscription, or an active subscriber's new choices, from its link (a POST); idempotent.

    Applies the preferences asked for on that sign-up (keeping those its form
    did not ask), records when and from where it was confirmed, and lifts a
    suppression: confirming afresh is how a bounced or erased address comes
    back. A sign-up older than one already confirmed changes nothing: the
    newest choices confirmed stand, whatever order the links are opened in.
    """
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        consent = subscriber.consents.filter(pk=consent_id).first() if consent_id else None
        if consent is None:
            consent = subscriber.consents.order_by("-submitted_at").first()
        if consent is not None and consent.confirmed_at is not None:
            return ConfirmOutcome(subscriber, already_confirmed=True)
        if consent is not None and consent.superseded():
            return ConfirmOutcome(subscriber, already_confirmed=False, superseded=True)
        was_subscribed = subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED)
        now = timezone.now()
        if consent is not None:
            consent.confirmed_at = now
            consent.confirmed_ip = request.ip
            consent.confirmed_user_agent = request.user_agent[:400]
            consent.save(update_fields=["confirmed_at", "confirmed_ip", "confirmed_user_agent"])
            _apply_preferences(subscriber, Preferences.requested(subscriber, consent))
            _signup_extras_apply(subscriber, SignupExtras.requested(consent), request)
        Suppression.objects.filter(email_hash=email_hash(subscriber.email)).delete()
        subscriber.status = Subscriber.Status.ACTIVE
        subscriber.confirmed_at = now
        subscriber.unsubscribed_at = None
        subscriber.suppressed_reason = ""
        subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "suppressed_reason"])
        _event(
            subscriber, SubscriberEvent.Kind.CONFIRMED, ip=request.ip, consent=consent.pk if consent else None
        )
        training.retrain_after_commit(subscriber.pk)
    return ConfirmOutcome(subscriber, already_confirmed=False, was_subscribed=was_subscribed)


def _signup_extras_apply(subscriber: Subscriber, extras: SignupExtras, request: RequestInfo) -> None:
    """Apply what a confirmed sign-up asked for besides preferences: its seed papers and saved searches."""
    if extras.seed_papers:
        papers = list(Paper.objects.filter(arxiv_id__in=extras.seed_papers))
        feedback_seed(subscriber=subscriber, papers=papers, request=request)
    searches.saved_searches_apply(subscriber=subscriber, wanted=extras.saved_searches)


def confirmation_resend(*, subscriber: Subscriber, request: RequestInfo) -> bool:
    """Send a fresh confirmation link for the latest sign-up, unless it was confirmed; return whether sent."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED):
            return False
        consent = subscriber.consents.order_by("-pk").first()
        if consent is None or consent.confirmed_at is not None or not _may_email(subscriber.email):
            return False
        _owe_link_email(subscriber, LinkEmail.Kind.CONFIRMATION, consent=consent)
    return True


def link_request(*, email: str, request: RequestInfo) -> None:
    """Mail a fresh link to a known address (the caller answers the same whatever happens here).

    An unknown address gets nothing; a known one, what ``subscriber_new_link`` sends.
    """
    subscriber = Subscriber.objects.filter(email=canonical_email(email)).first()
    if subscriber is not None:
        subscriber_new_link(subscriber=subscriber, request=request)


def subscriber_new_link(*, subscriber: Subscriber, request: RequestInfo) -> bool:
    """Mail the subscriber the link they need now; return whether one was queued (rate-limited per address).

    Someone who has not confirmed their latest sign-up gets its confirmation
    link again; a subscribed or unsubscribed reader, their preference-centre link.
    """
    if subscriber.status not in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED):
        if confirmation_resend(subscriber=subscriber, request=request):
            return True
        if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
            return False
    if not _may_email(subscriber.email):
        return False
    _owe_link_email(subscriber, LinkEmail.Kind.MANAGE_LINK)
    return True


# --- Preference centre -------------------------------------------------------------------------


def subscriber_update_preferences(
    *, subscriber: Subscriber, preferences: Preferences, request: RequestInfo
) -> bool:
    """Save new preferences; return whether anything changed (an event records what)."""
    with transaction.atomic():
        before = Preferences.of(subscriber)
        if before == preferences:
            return False
        _apply_preferences(subscriber, preferences)
        changed = {
            name: {"from": getattr(before, name), "to": getattr(preferences, name)}
            for name in Preferences.__dataclass_fields__
            if getattr(before, name) != getattr(preferences, name)
        }
        _event(subscriber, SubscriberEvent.Kind.PREFERENCES_CHANGED, ip=request.ip, changed=changed)
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
        _event(locked, event, ip=request.ip, previous=subscriber.status)
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
        _event(locked, SubscriberEvent.Kind.UNSUBSCRIBED, ip=request.ip, previous=previous, via=via)
    subscriber.status, subscriber.unsubscribed_at = locked.status, locked.unsubscribed_at
    return True


def subscriber_resubscribe(*, subscriber: Subscriber, request: RequestInfo) -> bool:
    """Ask an unsubscribed person to confirm again (consent withdrawn must be given afresh).

    Someone who never confirmed is sent their latest sign-up's link again: their
    stored preferences are not theirs yet, only the sign-up's.
    """
    if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED):
        return False
    if subscriber.status == Subscriber.Status.PENDING:
        return confirmation_resend(subscriber=subscriber, request=request)
    preferences = Preferences.of(subscriber)
    subscription_request(email=subscriber.email, preferences=preferences, request=request)
    return True


def subscriber_reactivate(*, subscriber: Subscriber) -> bool:
    """Ask a subscriber who is not active to confirm again; an admin never bypasses consent.

    Returns whether a confirmation email was queued: active subscribers need none, and an
    address a bounce, a complaint or an admin suppressed is mailed nothing until its suppression
    is deleted.
    """
    if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED):
        return False
    if selectors.address_blocked(email=subscriber.email):
        return False
    _event(subscriber, SubscriberEvent.Kind.REACTIVATION_REQUESTED)
    subscription_request(
        email=subscriber.email, preferences=Preferences.of(subscriber), request=RequestInfo()
    )
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
            _event(
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
            _event(
                subscriber,
                SubscriberEvent.Kind.PREFERENCES_CHANGED,
                ip=request.ip,
                seed_papers_added=[paper.arxiv_id for paper in added],
            )
    return len(added)


def feedback_remove(*, subscriber: Subscriber, paper: Paper) -> bool:
    """Forget the subscriber's rating of one paper (an undo); return whether there was one."""
    return Feedback.objects.filter(subscriber=subscriber, paper=paper).delete()[0] > 0


def feedback_reset(*, subscriber: Subscriber, request: RequestInfo) -> int:
    """Forget all of a subscriber's feedback; return how many choices were removed."""
    removed = Feedback.objects.filter(subscriber=subscriber).delete()[0]
    if removed:
        _event(subscriber, SubscriberEvent.Kind.PREFERENCES_CHANGED, ip=request.ip, feedback_reset=removed)
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
