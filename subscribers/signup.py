"""Signing up with double opt-in: the request, its confirmation, fresh links, and asking again.

A sign-up changes nothing until the address's owner confirms it: what was asked
for waits on a consent record, and the emails it owes wait as ``LinkEmail`` rows
that the newsletter app's link-email sweep sends.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from papers.db import insert_new_with_children
from papers.models import Paper
from subscribers import ratelimit, searches, selectors, training
from subscribers.addresses import canonical_email
from subscribers.models import ConsentRecord, LinkEmail, Subscriber, SubscriberEvent, Suppression
from subscribers.preferences import Preferences, SignupExtras
from subscribers.services import RequestInfo, event_record, feedback_seed, preferences_apply
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
        event_record(
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


def _owe_link_email(subscriber: Subscriber, kind: str, *, consent: ConsentRecord | None = None) -> None:
    """Record the email in the caller's transaction: beat's sweep sends it within seconds.

    The request never talks to the broker, so a sign-up is answered the same
    whether Redis is up or down, and costs one row.
    """
    LinkEmail.objects.create(subscriber=subscriber, kind=kind, consent=consent)


@dataclass(frozen=True)
class ConfirmOutcome:
    """What opening a confirmation link did, for the page that answers it."""

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
            _consent_apply(subscriber, consent, request, now=now)
        _subscriber_activate(subscriber, now=now)
        event_record(
            subscriber, SubscriberEvent.Kind.CONFIRMED, ip=request.ip, consent=consent.pk if consent else None
        )
        training.retrain_after_commit(subscriber.pk)
    return ConfirmOutcome(subscriber, already_confirmed=False, was_subscribed=was_subscribed)


def _consent_apply(
    subscriber: Subscriber, consent: ConsentRecord, request: RequestInfo, *, now: dt.datetime
) -> None:
    """Record when and from where ``consent`` was confirmed, and apply everything it asked for."""
    consent.confirmed_at = now
    consent.confirmed_ip = request.ip
    consent.confirmed_user_agent = request.user_agent[:400]
    consent.save(update_fields=["confirmed_at", "confirmed_ip", "confirmed_user_agent"])
    preferences_apply(subscriber=subscriber, preferences=Preferences.requested(subscriber, consent))
    _signup_extras_apply(subscriber, SignupExtras.requested(consent), request)


def _subscriber_activate(subscriber: Subscriber, *, now: dt.datetime) -> None:
    """Make the subscriber active from ``now``, lifting any suppression of their address."""
    Suppression.objects.filter(email_hash=email_hash(subscriber.email)).delete()
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.suppressed_reason = ""
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "suppressed_reason"])


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
    event_record(subscriber, SubscriberEvent.Kind.REACTIVATION_REQUESTED)
    subscription_request(
        email=subscriber.email, preferences=Preferences.of(subscriber), request=RequestInfo()
    )
    return True
