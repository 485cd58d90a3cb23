"""Sending a chunk through the delivery outbox: claim -> record the plan -> send -> record the outcome.

The outbox makes sending exactly-once in all but one window: a row is claimed
(sending) before the provider is called and marked sent right after it
accepts. If the worker dies between the provider accepting and that write, the
lease expires, the row returns to pending and the digest is sent again. The
message carries the delivery id as Anymail metadata, so a provider webhook for
the first copy marks the row sent; reconcile from the provider's logs otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_incrementing

from newsletter import emails, mail_backends, planning
from newsletter.models import Delivery, DeliveryItem
from papers.db import copy_rows, update_each
from subscribers.models import Subscriber, Suppression
from subscribers.services import unsubscribe_headers
from subscribers.tokens import email_hash

logger = logging.getLogger(__name__)
T = TypeVar("T")
RECORD_ATTEMPTS = 8
SMTP_PER_CALL = 100  # SMTP has no batch: this bounds what a lost worker may send twice
REFUSED_STATES = {"rejected", "invalid", "failed"}


class TransientSendError(Exception):
    """The provider could not take the chunk right now; the unsent rows are pending again."""


@dataclass
class ChunkResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    suppressed: int = 0


def deliveries_claim(*, delivery_ids: list[int], now: dt.datetime) -> list[int]:
    """Claim the pending rows among ``delivery_ids`` for this worker; rows others hold are skipped."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=delivery_ids, state=Delivery.State.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids, state=Delivery.State.PENDING).update(
            state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def plan_record(plan: planning.ChunkPlan) -> None:
    """Record, before anything is sent, what each delivery contains or why it is not sent."""
    items: list[tuple[int, int, int, float, str]] = []
    throughs: dict[dt.date, list[int]] = defaultdict(list)
    with transaction.atomic():
        for planned in plan.planned:
            pk = planned.delivery.pk
            if planned.suppressed:
                _finish(pk, Delivery.State.SUPPRESSED, skip_reason=planned.suppressed)
            elif planned.skip_reason:
                _finish(
                    pk,
                    Delivery.State.SKIPPED,
                    skip_reason=planned.skip_reason,
                    papers_through=planned.papers_through,
                )
            elif not planned.reused:
                items.extend((pk, p.paper_id, p.position, p.score, p.why) for p in planned.picks)
                if planned.picks and planned.papers_through:
                    throughs[planned.papers_through].append(pk)
        copy_rows(DeliveryItem, ("delivery_id", "paper_id", "position", "score", "why"), items)
        for through, ids in throughs.items():
            Delivery.objects.filter(pk__in=ids).update(papers_through=through)


def _finish(delivery_id: int, state: str, **fields: object) -> int:
    return Delivery.objects.filter(pk=delivery_id, state=Delivery.State.SENDING).update(state=state, **fields)


def _still_sendable(deliveries: list[Delivery]) -> set[int]:
    """The final guard: ids whose subscriber is still active and not suppressed, read just before sending."""
    active = set(
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], subscriber__status=Subscriber.Status.ACTIVE
        ).values_list("pk", flat=True)
    )
    hashes = {email_hash(d.subscriber.email): d.pk for d in deliveries}
    blocked = Suppression.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True)
    return active - {hashes[h] for h in blocked}


def chunk_send(*, delivery_ids: list[int], now: dt.datetime | None = None) -> ChunkResult:
    """Claim, plan, record and send a chunk of deliveries over one provider connection.

    Raises TransientSendError (after putting unsent rows back to pending) when
    the provider fails in a way worth retrying; permanent failures mark only
    their own row failed.
    """
    now = now or timezone.now()
    claimed = deliveries_claim(delivery_ids=delivery_ids, now=now)
    result = ChunkResult(claimed=len(claimed))
    if not claimed:
        return result
    plan = planning.chunk_plan(deliveries=planning.deliveries_for_chunk(claimed))
    plan_record(plan)
    result.suppressed = sum(1 for p in plan.planned if p.suppressed)
    result.skipped = sum(1 for p in plan.planned if p.skip_reason and not p.suppressed)
    digests = emails.chunk_digests(plan)
    if digests:
        _send_digests(digests, result, now=now)
    return result


Sent = list[tuple[Delivery, EmailMessage]]


def _send_digests(digests: list[emails.Digest], result: ChunkResult, *, now: dt.datetime) -> None:
    """Send the chunk's digests in calls of the backend's batch size, recording each call's outcome."""
    sendable = _still_sendable([d.delivery for d in digests])
    backend = get_connection()
    # Backends that take many different messages in one call (Postmark's batch) say how many.
    batch_size = getattr(backend, "batch_size", 0)
    per_call = batch_size or max(1, min(SMTP_PER_CALL, settings.DIGEST_BATCH_SIZE))
    try:
        try:
            backend.open()
        except Exception as error:
            # Not a row's fault (the server is down, the credentials are wrong): every row waits.
            _release([d.delivery.pk for d in digests], error=error, now=now)
            if mail_backends.is_transient(error):
                raise TransientSendError(_describe(error)) from error
            raise
        for start in range(0, len(digests), per_call):
            group: Sent = []
            for digest in digests[start : start + per_call]:
                if digest.delivery.pk in sendable:
                    group.append((digest.delivery, digest.message()))
                else:
                    reason = "unsubscribed or suppressed before sending"
                    _finish(digest.delivery.pk, Delivery.State.SUPPRESSED, skip_reason=reason)
                    result.suppressed += 1
            if not group:
                continue
            error = _send_group(backend, group, batched=bool(batch_size), result=result, now=now)
            if error is not None:
                later = [d.delivery.pk for d in digests[start + per_call :]]
                _release(later, error=error, now=now)
                raise TransientSendError(_describe(error)) from error
    finally:
        # Closing a broken connection must not hide the real error.
        with contextlib.suppress(Exception):
            backend.close()


def _send_group(
    backend: BaseEmailBackend, group: Sent, *, batched: bool, result: ChunkResult, now: dt.datetime
) -> Exception | None:
    """Send one group and record it; return a transient error after putting its unsent rows back.

    A batching backend takes the group in one call, which the provider accepts
    or refuses whole (a message it refuses inside the batch says so on its own
    status). Any other backend is given one message per call, so that what went
    out before an error is known: a message refused for good fails alone and
    the rest go on; a transient error stops the group.
    """
    accepted: Sent = []
    refused: list[tuple[Delivery, Exception]] = []
    error: Exception | None = None
    calls = [group] if batched else [[sent] for sent in group]
    for call in calls:
        try:
            backend.send_messages([message for _, message in call])
        except Exception as raised:
            if batched or mail_backends.is_transient(raised):
                error = raised
                break
            refused.extend((delivery, raised) for delivery, _ in call)
            continue
        accepted.extend(call)
    if accepted:
        # The provider has them: recording that comes first, and must survive a dropped connection.
        sent, failed = _durably(lambda: _record_sent(accepted))
        result.sent += sent
        result.failed += failed
    for delivery, why in refused:
        _fail(delivery, why)
    result.failed += len(refused)
    if error is None:
        return None
    finished = {d.pk for d, _ in accepted} | {d.pk for d, _ in refused}
    unsent = [d for d, _ in group if d.pk not in finished]
    if mail_backends.is_transient(error):
        _release([d.pk for d in unsent], error=error, now=now)
        return error
    for delivery in unsent:
        _fail(delivery, error)
    result.failed += len(unsent)
    return None


def _durably(write: Callable[[], T]) -> T:
    """Run a write that must not be lost, reconnecting if the database connection was dropped.

    After the provider accepted a message, failing to record it would send it
    again later; so a broken connection is replaced and the (idempotent)
    write retried for a few seconds before giving up.
    """
    retrying = Retrying(
        retry=retry_if_exception(_connection_lost),
        stop=stop_after_attempt(RECORD_ATTEMPTS),
        wait=wait_incrementing(start=0.25, increment=0.25),
        before_sleep=_reconnect,
        reraise=True,
    )
    return retrying(write)


def _connection_lost(error: BaseException) -> bool:
    # Inside a caller's transaction a new connection would not see its work: only the caller may retry.
    return isinstance(error, (OperationalError, InterfaceError)) and not connection.in_atomic_block


def _reconnect(state: RetryCallState) -> None:
    logger.warning("database connection lost while recording a send; reconnecting")
    connection.close()


def _record_sent(calls: Sent) -> tuple[int, int]:
    """Mark the rows of one provider call sent, in one statement; return (sent, failed).

    Each row gets the provider's id of its own message (our Message-ID where
    the backend reports none, as SMTP); a message the provider refused inside
    a batch fails alone.
    """
    message_ids: dict[int, str] = {}
    refused: list[tuple[Delivery, str]] = []
    for delivery, message in calls:
        status = getattr(message, "anymail_status", None)
        if status is None or not status.recipients:
            message_ids[delivery.pk] = str(message.extra_headers.get("Message-ID", ""))[:255]
            continue
        recipient = status.recipients.get(delivery.subscriber.email)
        if recipient is not None and recipient.status in REFUSED_STATES:
            error = getattr(message, "anymail_error", None)
            refused.append((delivery, f"{recipient.status}: {error}" if error else recipient.status))
            continue
        message_id = recipient.message_id if recipient and recipient.message_id else status.message_id
        message_ids[delivery.pk] = str(message_id or "")[:255]
    update_each(
        Delivery.objects.filter(state=Delivery.State.SENDING),
        "message_id",
        message_ids,
        state=Delivery.State.SENT,
        sent_at=timezone.now(),
        last_error="",
    )
    for delivery, why in refused:
        last_error = f"provider refused the recipient ({why})"[:1000]
        _finish(delivery.pk, Delivery.State.FAILED, last_error=last_error)
    return len(message_ids), len(refused)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _fail(delivery: Delivery, error: Exception) -> None:
    logger.warning("delivery %s failed permanently: %s", delivery.pk, error)
    _finish(delivery.pk, Delivery.State.FAILED, last_error=_describe(error))


def _release(delivery_ids: list[int], *, error: Exception, now: dt.datetime) -> None:
    """Put unsent rows back to pending with a backoff, or fail those out of attempts."""
    described = _describe(error)
    Delivery.objects.filter(
        pk__in=delivery_ids, state=Delivery.State.SENDING, attempts__gte=settings.DIGEST_MAX_ATTEMPTS
    ).update(
        state=Delivery.State.FAILED,
        last_error=f"gave up after {settings.DIGEST_MAX_ATTEMPTS} attempts: {described}",
    )
    base = settings.DIGEST_RETRY_BACKOFF
    Delivery.objects.filter(pk__in=delivery_ids, state=Delivery.State.SENDING).update(
        state=Delivery.State.PENDING,
        last_error=described,
        retry_after=now + dt.timedelta(seconds=base + random.uniform(0, base)),
        queued_at=now,
    )


def digest_test_send(*, subscriber: Subscriber, to: str) -> bool:
    """Send ``subscriber``'s digest as it would be now to ``to``, marked [TEST]; record nothing.

    Its links and List-Unsubscribe header are placeholders, never the subscriber's own.
    """
    preview = emails.digest_preview(subscriber=subscriber, now=timezone.now())
    if not preview.html:
        return False
    message = emails.digest_message(
        to=to,
        subject=preview.subject,
        text=preview.text,
        html=preview.html,
        unsubscribe=unsubscribe_headers(
            subscriber=subscriber, url=emails.placeholder_parts(subscriber).unsubscribe_url
        ),
        delivery_id=0,
        edition="test",
        test=True,
    )
    return message.send() == 1
