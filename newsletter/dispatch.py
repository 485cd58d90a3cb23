"""Dispatch: who is due, the delivery rows that record what is owed, and the chunks workers send.

Dispatching is safe to run twice or concurrently: the unique (subscriber,
edition) constraint makes creating a delivery that exists a no-op, and only
the run that created or re-queued a row hands it to a worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from newsletter.models import Delivery, DispatchRun, Edition
from papers.db import insert_from_select
from subscribers.models import Subscriber

logger = logging.getLogger(__name__)

# Hands a committed chunk of delivery ids to a worker (the caller's choice: a Celery task, a test list).
Enqueue = Callable[[list[int]], object]

# Deliveries created in one run after which the outbox's statistics are refreshed: a morning's
# dispatch can double the table, and stale statistics make the planner scan it when reading history.
ANALYZE_AFTER = 10_000


def local_time(now: dt.datetime, zone: str) -> dt.datetime:
    """Return ``now`` in time zone ``zone`` (UTC for a zone this machine does not know)."""
    try:
        return now.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError):
        return now.astimezone(dt.UTC)


def due_groups(
    *, now: dt.datetime, everyone: bool = False, uncreated: bool = True
) -> list[tuple[str, dt.date, QuerySet[Subscriber]]]:
    """Return (cadence, local date, active subscribers whose digest of that edition is due).

    Due means: in their own time zone it is their send hour, or up to
    DIGEST_CATCHUP_HOURS later the same day (a missed dispatcher run catches
    up), and for weekly subscribers it is their weekday. ``everyone`` treats
    every active subscriber as due today (their local date). With
    ``uncreated``, subscribers whose delivery of that edition exists are left
    out (the dispatcher, which inserts from the unevaluated querysets, lets the
    unique constraint skip them instead).
    """
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    zones = active.order_by().values_list("timezone", flat=True).distinct()
    # Zones that share a local date, hour and weekday share one condition.
    groups: dict[tuple[dt.date, int, int], list[str]] = defaultdict(list)
    for zone in zones:
        local = local_time(now, zone)
        groups[(local.date(), local.hour, local.weekday())].append(zone)

    due: list[tuple[str, dt.date, QuerySet[Subscriber]]] = []
    catchup = settings.DIGEST_CATCHUP_HOURS
    for (local_date, hour, weekday), zone_names in sorted(groups.items()):
        when = Q(timezone__in=zone_names)
        if not everyone:
            when &= Q(send_hour__lte=hour, send_hour__gt=hour - catchup)
        for cadence in (Subscriber.Cadence.DAILY, Subscriber.Cadence.WEEKLY):
            on_day = when & Q(cadence=cadence)
            if cadence == Subscriber.Cadence.WEEKLY and not everyone:
                on_day &= Q(send_weekday=weekday)
            subscribers = active.filter(on_day).order_by("pk")
            if uncreated:
                already = Delivery.objects.filter(
                    subscriber=OuterRef("pk"), edition__date=local_date, edition__cadence=cadence
                )
                subscribers = subscribers.filter(~Exists(already))
            due.append((cadence, local_date, subscribers))
    return due


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
    *, now: dt.datetime | None = None, everyone: bool = False, enqueue: Enqueue | None = None
) -> DispatchResult:
    """Create the deliveries due now and hand them to ``enqueue`` in chunks; return what was done.

    Rows left in sending past their lease are recovered first. Then pending rows
    not queued lately (a lost task, a broker restart) are queued again, and each
    time-zone group's deliveries are created and queued, each step in its own
    transaction, so the first chunks are on their way while later groups are
    still being written. Without ``enqueue`` the chunks are only returned.
    """
    now = now or timezone.now()
    result = DispatchResult(recovered=deliveries_recover(now=now))
    run = DispatchRun.objects.create(started_at=now)
    chunker = _Chunker(result, enqueue=enqueue)
    chunker.add(_requeue_stale(now=now, run=run))
    try:
        _create_due(now=now, run=run, everyone=everyone, result=result, chunker=chunker)
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


def _requeue_stale(*, now: dt.datetime, run: DispatchRun) -> list[int]:
    """Mark pending rows not queued lately as queued by ``run``; return their ids.

    A concurrent run waits for these rows and then finds them queued, so each is queued once.
    """
    stale = now - dt.timedelta(seconds=settings.DIGEST_REQUEUE_SECONDS)
    with transaction.atomic():
        Delivery.objects.filter(state=Delivery.State.PENDING).filter(
            Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
        ).filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now)).update(queued_at=now, queued_by=run)
        return list(
            Delivery.objects.filter(state=Delivery.State.PENDING, queued_by=run)
            .order_by("edition_id", "pk")
            .values_list("pk", flat=True)
        )


def _create_due(
    *, now: dt.datetime, run: DispatchRun, everyone: bool, result: DispatchResult, chunker: _Chunker
) -> None:
    """Create each time-zone group's deliveries in its own transaction and queue what it created."""
    editions: dict[tuple[str, dt.date], Edition] = {}  # time-zone groups share an edition
    for cadence, local_date, subscribers in due_groups(now=now, everyone=everyone, uncreated=False):
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


class _Chunker:
    """Cuts the ids of committed, queued deliveries into chunks of DIGEST_CHUNK_SIZE and queues them.

    A group's last few rows wait for the next group to fill their chunk. Their
    rows are queued (queued_at) already: if the dispatcher process dies first,
    a run DIGEST_REQUEUE_SECONDS later queues them again.
    """

    def __init__(self, result: DispatchResult, *, enqueue: Enqueue | None) -> None:
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
        if self.enqueue is not None:
            enqueue = self.enqueue
            # Now, or when a caller's transaction around the dispatcher commits.
            transaction.on_commit(lambda: enqueue(chunk))


def _edition(cadence: str, date: dt.date) -> Edition:
    try:
        with transaction.atomic():
            return Edition.objects.get_or_create(cadence=cadence, date=date)[0]
    except IntegrityError:  # a concurrent dispatcher created it first
        return Edition.objects.get(cadence=cadence, date=date)


def deliveries_retry_failed(*, delivery_ids: list[int], enqueue: Enqueue | None = None) -> int:
    """Put failed deliveries back to pending and hand them to ``enqueue``; return how many.

    Only rows still failed change, so a delivery sent meanwhile is never sent again.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=delivery_ids, state=Delivery.State.FAILED)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            state=Delivery.State.PENDING,
            queued_at=now if enqueue else None,
            retry_after=None,
            attempts=0,
        )
        chunker = _Chunker(DispatchResult(), enqueue=enqueue)
        chunker.add(ids)
        chunker.flush()
    return len(ids)
