"""Writes for digests: dispatching editions, sending chunks through the outbox, feedback, provider events.

The delivery outbox makes sending exactly-once in all but one window: a row is
claimed (sending) before the provider is called and marked sent right after it
accepts. If the worker dies between the provider accepting and that write, the
lease expires, the row returns to pending and the digest is sent again. The
message carries the delivery id as Anymail metadata, so a provider webhook for
the first copy marks the row sent; reconcile from the provider's logs otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, Value
from django.urls import reverse
from django.utils import timezone

from newsletter import emails, mail_backends, rendering, selectors
from newsletter.models import Delivery, DeliveryItem, DispatchRun, Edition, TrackingEvent
from papers.db import copy_rows, insert_from_select, update_each
from subscribers import links
from subscribers import services as subscriber_services
from subscribers.addresses import canonical_email
from subscribers.models import Subscriber, Suppression
from subscribers.tokens import email_hash

logger = logging.getLogger(__name__)
T = TypeVar("T")


class TransientSendError(Exception):
    """The provider could not take the chunk right now; the unsent rows are pending again."""


# --- Dispatch ----------------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    due: int = 0
    created: int = 0
    recovered: int = 0
    enqueued: int = 0
    chunks: list[list[int]] = field(default_factory=list)


def deliveries_recover(*, now: dt.datetime) -> int:
    """Return rows left in sending by a lost worker (lease expired) to pending; return how many.

    A row lost on its last attempt (DIGEST_MAX_ATTEMPTS, counted when it was
    claimed) is failed instead.
    """
    expired = now - dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
    lost = Delivery.objects.filter(state=Delivery.State.SENDING, claimed_at__lt=expired)
    why = "lease expired: the worker was lost before recording the outcome"
    gave_up = lost.filter(attempts__gte=settings.DIGEST_MAX_ATTEMPTS).update(
        state=Delivery.State.FAILED,
        last_error=f"gave up after {settings.DIGEST_MAX_ATTEMPTS} attempts: {why}",
    )
    if gave_up:
        logger.warning("%d deliveries lost on their last attempt were marked failed", gave_up)
    return lost.update(state=Delivery.State.PENDING, queued_at=None, last_error=why)


def digests_dispatch(
    *, now: dt.datetime | None = None, everyone: bool = False, enqueue: bool = True
) -> DispatchResult:
    """Create the deliveries due now and enqueue them in chunks; safe to run twice or concurrently.

    Rows left in sending past their lease are recovered first. Then pending rows
    not queued lately (a lost task, a broker restart) are queued again, and each
    time-zone group's deliveries are created and queued, each step in its own
    transaction: the first chunks are on their way while later groups are still
    being written (100,000 deliveries took the dispatcher 7 s, with every worker
    waiting). The unique (subscriber, edition) constraint makes creating a
    delivery that exists a no-op, and only the run that created a row queues it.
    """
    now = now or timezone.now()
    result = DispatchResult(recovered=deliveries_recover(now=now))
    run = DispatchRun.objects.create(started_at=now)
    chunker = _Chunker(result, enqueue=enqueue)

    # A concurrent run waits for these rows and then finds them queued, so each is queued once.
    with transaction.atomic():
        stale = now - dt.timedelta(seconds=settings.DIGEST_REQUEUE_SECONDS)
        Delivery.objects.filter(state=Delivery.State.PENDING, is_test=False).filter(
            Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
        ).filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now)).update(queued_at=now, queued_by=run)
        requeued = list(
            Delivery.objects.filter(state=Delivery.State.PENDING, is_test=False, queued_by=run)
            .order_by("edition_id", "pk")
            .values_list("pk", flat=True)
        )
    chunker.add(requeued)

    editions: dict[tuple[str, dt.date], Edition] = {}  # time-zone groups share an edition
    try:
        for cadence, local_date, subscribers in selectors.due_groups(
            now=now, everyone=everyone, uncreated=False
        ):
            with transaction.atomic():
                if not subscribers.exists():
                    continue
                edition = editions.get((cadence, local_date))
                if edition is None:
                    edition = editions[(cadence, local_date)] = _edition(cadence, local_date)
                created = insert_from_select(
                    Delivery,
                    subscribers,
                    {
                        "subscriber_id": F("pk"),
                        "edition_id": Value(edition.pk),
                        "created_at": Value(now),
                        "queued_at": Value(now),
                        "queued_by_id": Value(run.pk),
                    },
                )
            result.due += len(created)
            result.created += len(created)
            chunker.add(sorted(created))  # committed: their chunks can go
    finally:
        chunker.flush()  # what earlier groups committed goes out even when a later group failed

    DispatchRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        due=result.due,
        created=result.created,
        recovered=result.recovered,
        enqueued=result.enqueued,
        chunks=len(result.chunks),
    )
    if result.created >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # A morning's dispatch can double the outbox: with statistics from before it, the planner
        # reads chunks' history by sequential scans (seen in the dispatch benchmark).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE newsletter_delivery, newsletter_deliveryitem")
    # Beat runs this every 15 minutes; a run that found nothing to do is routine.
    logger.log(
        logging.INFO if result.due or result.recovered or result.enqueued else logging.DEBUG,
        "dispatch: %d due, %d recovered, %d enqueued in %d chunks",
        result.due,
        result.recovered,
        result.enqueued,
        len(result.chunks),
    )
    return result


class _Chunker:
    """Cuts the ids of committed, queued deliveries into chunks of DIGEST_CHUNK_SIZE and sends them.

    A group's last few rows wait for the next group to fill their chunk. Their
    rows are queued (queued_at) already: if the dispatcher process dies first,
    a run DIGEST_REQUEUE_SECONDS later queues them again.
    """

    def __init__(self, result: DispatchResult, *, enqueue: bool) -> None:
        self.result = result
        self.enqueue = enqueue
        self.size = settings.DIGEST_CHUNK_SIZE
        self.waiting: list[int] = []

    def add(self, ids: Iterable[int]) -> None:
        self.waiting.extend(ids)
        while len(self.waiting) >= self.size:
            self._send(self.waiting[: self.size])
            del self.waiting[: self.size]

    def flush(self) -> None:
        if self.waiting:
            self._send(self.waiting)
            self.waiting = []

    def _send(self, chunk: list[int]) -> None:
        self.result.chunks.append(chunk)
        self.result.enqueued += len(chunk)
        if self.enqueue:
            from newsletter.tasks import send_chunk

            # Now, or when a caller's transaction around the dispatcher commits.
            transaction.on_commit(lambda: send_chunk.delay(chunk))


ANALYZE_AFTER = 10_000  # deliveries created in one run


def _edition(cadence: str, date: dt.date) -> Edition:
    try:
        with transaction.atomic():
            return Edition.objects.get_or_create(cadence=cadence, date=date)[0]
    except IntegrityError:  # a concurrent dispatcher created it first
        return Edition.objects.get(cadence=cadence, date=date)


# --- Sending a chunk ------------------------------------------------------------------------------------


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
            .filter(pk__any=delivery_ids, state=Delivery.State.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__any=ids, state=Delivery.State.PENDING).update(
            state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def _record_plan(plan: selectors.ChunkPlan) -> None:
    """Record, before anything is sent, what each delivery contains or why it is not sent."""
    items: list[tuple[int, int, int, float, str]] = []
    with transaction.atomic():
        for planned in plan.planned:
            delivery = planned.delivery
            if planned.suppressed:
                _finish(delivery.pk, Delivery.State.SUPPRESSED, skip_reason=planned.suppressed)
            elif planned.skip_reason:
                _finish(
                    delivery.pk,
                    Delivery.State.SKIPPED,
                    skip_reason=planned.skip_reason,
                    papers_through=planned.papers_through,
                )
            elif not planned.reused:
                items.extend((delivery.pk, p.paper_id, p.position, p.score, p.why) for p in planned.picks)
        copy_rows(DeliveryItem, ("delivery_id", "paper_id", "position", "score", "why"), items)
        throughs: dict[dt.date, list[int]] = defaultdict(list)
        for planned in plan.planned:
            if planned.picks and not planned.suppressed and not planned.reused and planned.papers_through:
                throughs[planned.papers_through].append(planned.delivery.pk)
        for through, ids in throughs.items():
            Delivery.objects.filter(pk__any=ids).update(papers_through=through)


def _finish(delivery_id: int, state: str, **fields: object) -> int:
    return Delivery.objects.filter(pk=delivery_id, state=Delivery.State.SENDING).update(state=state, **fields)


def personal_parts(delivery: Delivery) -> rendering.Personal:
    """Return the links and address that make a digest this subscriber's own."""
    subscriber = delivery.subscriber
    signed = links.mail_links(subscriber, delivery_id=delivery.pk)
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


@dataclass
class Envelope:
    """One digest to send: its delivery and its rendered content (shared by equal digests)."""

    delivery: Delivery
    content: rendering.DigestContent
    edition: str

    def message(self) -> EmailMultiAlternatives:
        """Return the digest as this subscriber's own message: links, address, unsubscribe headers."""
        delivery = self.delivery
        personal = personal_parts(delivery)
        subject, text, html = rendering.personalise(self.content, personal)
        return emails.digest_message(
            to=delivery.subscriber.email,
            subject=subject,
            text=text,
            html=html,
            unsubscribe_headers=subscriber_services.unsubscribe_headers(
                subscriber=delivery.subscriber, url=personal.unsubscribe_url
            ),
            delivery_id=delivery.pk,
            edition=self.edition,
        )


def build_messages(plan: selectors.ChunkPlan) -> list[Envelope]:
    """Return a digest to send for each delivery of a planned chunk; equal digests are rendered once.

    Each delivery is its own message (its links are signed for it); a backend
    that takes many messages per call (Postmark's batch) sends them together.
    """
    renderer = rendering.shared_renderer()
    contents: dict[tuple[object, ...], rendering.DigestContent] = {}
    envelopes: list[Envelope] = []
    for planned in plan.planned:
        if planned.suppressed or planned.skip_reason or not planned.picks:
            continue
        delivery = planned.delivery
        profile = plan.profiles[delivery.subscriber_id]
        key = (delivery.edition_id, tuple((p.paper_id, p.why) for p in planned.picks), profile)
        content = contents.get(key)
        if content is None:
            content = contents[key] = renderer.render(
                edition=delivery.edition, picks=planned.picks, papers=plan.papers, profile=profile
            )
        edition = f"{delivery.edition.cadence}:{delivery.edition.date.isoformat()}"
        envelopes.append(Envelope(delivery=delivery, content=content, edition=edition))
    return envelopes


def _still_sendable(delivery_ids: list[int], emails_by_id: dict[int, str]) -> set[int]:
    """The final guard: ids whose subscriber is still active and not suppressed, read just before sending."""
    active = set(
        Delivery.objects.filter(
            pk__any=delivery_ids, subscriber__status=Subscriber.Status.ACTIVE
        ).values_list("pk", flat=True)
    )
    hashes = {email_hash(address): pk for pk, address in emails_by_id.items()}
    blocked = Suppression.objects.filter(email_hash__any=hashes).values_list("email_hash", flat=True)
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
    deliveries = selectors.deliveries_for_chunk(claimed)
    plan = selectors.chunk_plan(deliveries=deliveries)
    _record_plan(plan)
    result.suppressed = sum(1 for p in plan.planned if p.suppressed)
    result.skipped = sum(1 for p in plan.planned if p.skip_reason and not p.suppressed)
    envelopes = build_messages(plan)
    if not envelopes:
        return result

    everyone = [envelope.delivery for envelope in envelopes]
    sendable = _still_sendable([d.pk for d in everyone], {d.pk: d.subscriber.email for d in everyone})
    connection = get_connection()
    # Backends that take many different messages in one call (Postmark's batch) say how many.
    per_call = max(1, getattr(connection, "batch_size", 1))
    try:
        try:
            connection.open()
        except Exception as error:
            # Not a row's fault (the server is down, the credentials are wrong): every row waits.
            _release([e.delivery.pk for e in envelopes], error=error, now=now)
            if mail_backends.is_transient(error):
                raise TransientSendError(_describe(error)) from error
            raise
        for start in range(0, len(envelopes), per_call):
            calls: list[tuple[Delivery, EmailMultiAlternatives]] = []
            for envelope in envelopes[start : start + per_call]:
                delivery = envelope.delivery
                if delivery.pk not in sendable:
                    _finish(
                        delivery.pk,
                        Delivery.State.SUPPRESSED,
                        skip_reason="unsubscribed or suppressed before sending",
                    )
                    result.suppressed += 1
                else:
                    calls.append((delivery, envelope.message()))
            if not calls:
                continue
            try:
                connection.send_messages([message for _, message in calls])
                error = None
            except Exception as raised:
                error = raised
            # A backend that sends a list one by one (SMTP) marks what it finished: each message
            # accepted, or refused for good; a list cut short leaves the rest unmarked.
            refused = [(d, m) for d, m in calls if getattr(m, "refused", None) is not None]
            accepted = [
                (d, m)
                for d, m in calls
                if (error is None or getattr(m, "accepted", False)) and getattr(m, "refused", None) is None
            ]
            if accepted:
                # The provider has them: recording that comes first, and must survive a dropped
                # database connection.
                sent, failed = _durably(lambda accepted=accepted: _record_sent(accepted))
                result.sent += sent
                result.failed += failed
            for delivery, message in refused:
                _fail(delivery, message.refused)
            result.failed += len(refused)
            if error is None:
                continue
            finished = {d.pk for d, _ in accepted} | {d.pk for d, _ in refused}
            unsent = [d for d, _ in calls if d.pk not in finished]
            if mail_backends.is_transient(error):
                later = [e.delivery.pk for e in envelopes[start + per_call :]]
                _release([d.pk for d in unsent] + later, error=error, now=now)
                raise TransientSendError(_describe(error)) from error
            for delivery in unsent:
                _fail(delivery, error)
            result.failed += len(unsent)
    finally:
        # Closing a broken connection must not hide the real error.
        with contextlib.suppress(Exception):
            connection.close()
    return result


def _durably(write: Callable[[], T]) -> T:
    """Run a write that must not be lost, reconnecting if the database connection was dropped.

    After the provider accepted a message, failing to record it would send it
    again later; so a broken connection is replaced and the (idempotent)
    write retried for a few seconds before giving up.
    """
    for attempt in range(RECORD_ATTEMPTS):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or attempt == RECORD_ATTEMPTS - 1:
                raise
            logger.warning("database connection lost while recording a send; reconnecting")
            connection.close()
            time.sleep(0.25 * (attempt + 1))
    raise AssertionError("unreachable")


RECORD_ATTEMPTS = 8


def _record_sent(calls: list[tuple[Delivery, EmailMultiAlternatives]]) -> tuple[int, int]:
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
            message_ids[delivery.pk] = _message_id(message)[:255]
            continue
        recipient = status.recipients.get(delivery.subscriber.email)
        if recipient is not None and recipient.status in {"rejected", "invalid", "failed"}:
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
        _finish(
            delivery.pk, Delivery.State.FAILED, last_error=f"provider refused the recipient ({why})"[:1000]
        )
    return len(message_ids), len(refused)


def _message_id(message: object) -> str:
    status = getattr(message, "anymail_status", None)
    if status is not None and status.message_id:
        return str(status.message_id)
    return str(message.extra_headers.get("Message-ID", ""))  # type: ignore[attr-defined]


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _fail(delivery: Delivery, error: Exception) -> None:
    logger.warning("delivery %s failed permanently: %s", delivery.pk, error)
    _finish(delivery.pk, Delivery.State.FAILED, last_error=_describe(error))


def _release(delivery_ids: list[int], *, error: Exception, now: dt.datetime) -> None:
    """Put unsent rows back to pending with a backoff, or fail those out of attempts."""
    described = _describe(error)
    out_of_attempts = Delivery.objects.filter(
        pk__any=delivery_ids, state=Delivery.State.SENDING, attempts__gte=settings.DIGEST_MAX_ATTEMPTS
    )
    out_of_attempts.update(
        state=Delivery.State.FAILED,
        last_error=f"gave up after {settings.DIGEST_MAX_ATTEMPTS} attempts: {described}",
    )
    base = settings.DIGEST_RETRY_BACKOFF
    Delivery.objects.filter(pk__any=delivery_ids, state=Delivery.State.SENDING).update(
        state=Delivery.State.PENDING,
        last_error=described,
        retry_after=now + dt.timedelta(seconds=base + random.uniform(0, base)),
        queued_at=now,
    )


def digest_test_send(*, subscriber: Subscriber, to: str) -> bool:
    """Send ``subscriber``'s digest as it would be now to ``to``, marked [TEST]; record nothing.

    Its links and List-Unsubscribe header are placeholders, never the subscriber's own.
    """
    preview = selectors.digest_preview(subscriber=subscriber, now=timezone.now())
    if not preview.html:
        return False
    message = emails.digest_message(
        to=to,
        subject=preview.subject,
        text=preview.text,
        html=preview.html,
        unsubscribe_headers=subscriber_services.unsubscribe_headers(
            subscriber=subscriber, url=placeholder_parts(subscriber).unsubscribe_url
        ),
        delivery_id=0,
        edition="test",
        test=True,
    )
    return message.send() == 1


def deliveries_retry_failed(*, delivery_ids: list[int], enqueue: bool = True) -> int:
    """Put failed deliveries back to pending and queue them; return how many.

    Only rows still failed change, so a delivery sent meanwhile is never sent again.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update()
            .filter(pk__any=delivery_ids, state=Delivery.State.FAILED)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__any=ids).update(
            state=Delivery.State.PENDING, queued_at=now if enqueue else None, retry_after=None, attempts=0
        )
        if enqueue and ids:
            from newsletter.tasks import send_chunk

            size = settings.DIGEST_CHUNK_SIZE
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                transaction.on_commit(lambda chunk=chunk: send_chunk.delay(chunk))
    return len(ids)


# --- Provider events ---------------------------------------------------------------------------------------

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
    """Store a provider's tracking event once, and act on it; return None for a repeat.

    A hard bounce or a complaint suppresses the address at once; soft bounces
    suppress after SOFT_BOUNCE_LIMIT within SOFT_BOUNCE_DAYS; a provider-side
    unsubscribe unsubscribes. An event for a delivery still marked sending
    proves the provider took it: the row is marked sent.
    """
    # Everything from the payload is cleaned before it reaches a query (PostgreSQL refuses NUL).
    recipient = canonical_email(str(_storable(str(event.recipient or ""))))
    event_id = str(_storable(str(event.event_id or ""))) or _synthetic_event_id(event, provider)
    metadata = event.metadata or {}
    delivery = None
    delivery_id = str(metadata.get("delivery_id", ""))
    if delivery_id.isdigit():
        delivery = Delivery.objects.filter(pk=int(delivery_id)).select_related("subscriber").first()
    subscriber = delivery.subscriber if delivery else Subscriber.objects.filter(email=recipient).first()
    bounce = bounce_class(event)
    try:
        with transaction.atomic():
            stored = TrackingEvent.objects.create(
                provider=provider,
                event_id=event_id[:255],
                event_type=str(_storable(event.event_type or "unknown"))[:32],
                reject_reason=str(_storable(event.reject_reason or ""))[:32],
                bounce=bounce,
                recipient=_storable(recipient)[:254],
                message_id=_storable(str(event.message_id or ""))[:255],
                delivery=delivery,
                subscriber=subscriber,
                occurred_at=event.timestamp or timezone.now(),
                description=_storable(event.description or event.mta_response or "")[:2000],
                raw=_storable(event.esp_event) if isinstance(event.esp_event, dict) else {},
            )
    except IntegrityError:
        return None  # providers retry: this event was handled already

    if delivery is not None and event.event_type in PROVIDER_TOOK_IT:
        # The provider has the message: a row still marked sending or pending was sent.
        Delivery.objects.filter(
            pk=delivery.pk, state__in=[Delivery.State.SENDING, Delivery.State.PENDING]
        ).update(state=Delivery.State.SENT, sent_at=stored.occurred_at, message_id=stored.message_id)
        if event.event_type == "delivered":
            Delivery.objects.filter(pk=delivery.pk).update(delivered_at=stored.occurred_at)
        if bounce:
            Delivery.objects.filter(pk=delivery.pk).update(bounced_at=stored.occurred_at)

    if not recipient:
        return stored
    if event.event_type == "complained":
        subscriber_services.subscriber_suppress(
            email=recipient, reason=Suppression.Reason.COMPLAINT, detail={"event": stored.pk}
        )
    elif bounce == "hard":
        subscriber_services.subscriber_suppress(
            email=recipient, reason=Suppression.Reason.HARD_BOUNCE, detail={"event": stored.pk}
        )
    elif bounce == "soft":
        since = timezone.now() - dt.timedelta(days=settings.SOFT_BOUNCE_DAYS)
        soft = TrackingEvent.objects.filter(
            recipient=recipient, bounce="soft", occurred_at__gte=since
        ).count()
        if soft >= settings.SOFT_BOUNCE_LIMIT:
            subscriber_services.subscriber_suppress(
                email=recipient, reason=Suppression.Reason.SOFT_BOUNCES, detail={"soft_bounces": soft}
            )
    elif event.event_type == "unsubscribed" and subscriber is not None:
        subscriber_services.subscriber_unsubscribe(
            subscriber=subscriber, request=subscriber_services.RequestInfo(), via=f"{provider} unsubscribe"
        )
    return stored


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


def _synthetic_event_id(event: AnymailTrackingEvent, provider: str) -> str:
    import hashlib

    parts = [
        provider,
        event.event_type or "",
        str(event.timestamp or ""),
        event.recipient or "",
        str(event.message_id or ""),
    ]
    return "synthetic:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
