"""Sending the link-email outbox: claim a batch of owed rows, send each, record the outcome.

subscribers records the confirmation and preference-centre emails it owes
(``LinkEmail`` rows, written in the request's transaction); this module, run
by beat every two seconds, sends them through the one email module.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from newsletter import emails, mail_backends
from subscribers import selectors as subscriber_selectors
from subscribers.models import LinkEmail, SubscriberEvent

logger = logging.getLogger(__name__)

LINK_EMAIL_CLAIM = dt.timedelta(minutes=5)
# Small batches: sweeps that overlap on several workers share a backlog between them.
LINK_EMAIL_SWEEP_BATCH = 50


def link_emails_sweep(*, now: dt.datetime | None = None) -> int:
    """Send a batch of the link emails owed, oldest first; return how many went out.

    Beat runs this every two seconds (*Send owed link emails*): it is how every
    confirmation and preference-centre email goes out. Each sweep claims its
    own batch (``SKIP LOCKED``), so sweeps overlapping on several workers send
    different rows, and a row is sent once however often the sweep runs.

    A row that fails never holds back the others: one that would fail every
    time (an address no codec can encode, a recipient the provider rejects) is
    failed at once; one that may pass later is backed off on its own, counted,
    and failed after LINK_EMAIL_MAX_ATTEMPTS. When the provider cannot be
    reached at all, the sweep stops and leaves the rest of its batch, untried
    and uncounted, to the next one. Rows past LINK_EMAIL_MAX_AGE_HOURS are
    dropped: a link that old would only puzzle its reader.
    """
    now = now or timezone.now()
    LinkEmail.objects.filter(
        state=LinkEmail.State.OWED,
        created_at__lt=now - dt.timedelta(hours=settings.LINK_EMAIL_MAX_AGE_HOURS),
    ).update(state=LinkEmail.State.SKIPPED, claimed_until=None, last_error="too old to send")
    with transaction.atomic():
        batch = list(
            LinkEmail.objects.filter(state=LinkEmail.State.OWED)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
            .select_for_update(skip_locked=True)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:LINK_EMAIL_SWEEP_BATCH]
        )
        LinkEmail.objects.filter(pk__in=batch).update(claimed_until=now + LINK_EMAIL_CLAIM)
    sent = 0
    done = 0
    try:
        for pk in batch:
            outcome = _send_claimed(pk, now=now)
            done += 1
            sent += outcome == _Outcome.SENT
            if outcome == _Outcome.UNREACHABLE:
                break
    finally:
        LinkEmail.objects.filter(pk__in=batch[done:], state=LinkEmail.State.OWED).update(claimed_until=None)
    return sent


class _Outcome(enum.Enum):
    SENT = "sent"
    NOT_SENT = "not sent"  # no longer wanted, or failed for good
    RETRY = "retry"  # backed off
    UNREACHABLE = "unreachable"  # backed off, and the provider gave no answer


def link_email_backoff(attempts: int) -> dt.timedelta:
    """Return the wait after ``attempts`` failed tries: LINK_EMAIL_RETRY_BACKOFF, doubled each time."""
    seconds = settings.LINK_EMAIL_RETRY_BACKOFF * 2 ** min(max(attempts - 1, 0), 16)
    return dt.timedelta(seconds=min(seconds, LINK_EMAIL_LONGEST_WAIT.total_seconds()))


LINK_EMAIL_LONGEST_WAIT = dt.timedelta(hours=1)


def _send_claimed(link_email_id: int, *, now: dt.datetime) -> _Outcome:
    """Send a link email this worker has claimed and record the outcome.

    The attempt is counted whatever happens. An error that may pass backs the
    row off (``retry_after``), or fails it after LINK_EMAIL_MAX_ATTEMPTS; any
    other error fails it at once.
    """
    row = LinkEmail.objects.select_related("subscriber", "consent").get(pk=link_email_id)
    reason = subscriber_selectors.link_email_unwanted(row)
    if reason:
        LinkEmail.objects.filter(pk=row.pk).update(
            state=LinkEmail.State.SKIPPED, claimed_until=None, last_error=reason
        )
        return _Outcome.NOT_SENT
    try:
        if row.kind == LinkEmail.Kind.CONFIRMATION:
            sent = emails.send_confirmation(subscriber=row.subscriber, consent=row.consent)
        else:
            sent = emails.send_manage_link(subscriber=row.subscriber)
    except Exception as error:
        return _not_sent(row, error, now=now)
    with transaction.atomic():
        LinkEmail.objects.filter(pk=row.pk).update(
            state=LinkEmail.State.SENT if sent else LinkEmail.State.FAILED,
            sent_at=timezone.now() if sent else None,
            claimed_until=None,
            retry_after=None,
            attempts=F("attempts") + 1,
            last_error="" if sent else "the email backend sent nothing",
        )
        if sent:
            kind = (
                SubscriberEvent.Kind.CONFIRMATION_SENT
                if row.kind == LinkEmail.Kind.CONFIRMATION
                else SubscriberEvent.Kind.MANAGE_LINK_SENT
            )
            detail = {"consent": row.consent_id} if row.consent_id else {}
            SubscriberEvent.objects.create(subscriber=row.subscriber, kind=kind, detail=detail)
    return _Outcome.SENT if sent else _Outcome.NOT_SENT


def _not_sent(row: LinkEmail, error: Exception, *, now: dt.datetime) -> _Outcome:
    """Record a failed try: back the row off if the error may pass, else fail it; return the outcome."""
    attempts = row.attempts + 1
    described = f"{type(error).__name__}: {error}"
    if not mail_backends.is_transient(error):
        logger.warning("link email %s failed for good: %s", row.pk, described)
        _link_email_failed(row, described)
        return _Outcome.NOT_SENT
    if attempts >= settings.LINK_EMAIL_MAX_ATTEMPTS:
        logger.warning("link email %s failed after %d attempts: %s", row.pk, attempts, described)
        _link_email_failed(row, f"gave up after {attempts} attempts: {described}")
        return _Outcome.NOT_SENT
    wait = link_email_backoff(attempts)
    logger.warning("link email %s not sent, next try in %ds: %s", row.pk, wait.total_seconds(), described)
    LinkEmail.objects.filter(pk=row.pk).update(
        claimed_until=None,
        retry_after=now + wait,
        attempts=F("attempts") + 1,
        last_error=described[:300],
    )
    return _Outcome.UNREACHABLE if mail_backends.is_unreachable(error) else _Outcome.RETRY


def _link_email_failed(row: LinkEmail, why: str) -> None:
    LinkEmail.objects.filter(pk=row.pk).update(
        state=LinkEmail.State.FAILED,
        claimed_until=None,
        retry_after=None,
        attempts=F("attempts") + 1,
        last_error=why[:300],
    )
