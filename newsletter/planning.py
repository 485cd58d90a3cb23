"""Planning: what each delivery of a chunk will contain, or why it is not sent.

Everything a chunk's deliveries share (their history, the papers they may
draw on, pins, and their profiles from :mod:`newsletter.profiles`) is loaded
once per chunk in a fixed number of queries (:func:`chunk_context`); each
delivery is then planned in memory, and the ranking itself is
:mod:`newsletter.selection`'s, which knows no database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Q

from newsletter import candidates, pools, selection
from newsletter.models import Delivery, DeliveryItem, Edition
from newsletter.pools import Eligible, Window
from newsletter.profiles import chunk_profiles
from papers.models import Paper, TopicPin
from subscribers.models import Subscriber, Suppression
from subscribers.tokens import email_hash

SENT_OR_SENDING = (Delivery.State.SENT, Delivery.State.SENDING)
PAPER_FIELDS = (
    "id",
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "ai_summary",
    "author_names",
    "categories",
    "primary_category",
    "announced_on",
    "first_seen_at",
    "trending_since",
    "upvotes",
    "featured",
    "hidden",
    "abs_url",
    "pdf_url",
    "hf_url",
    "code_url",
    "project_url",
)
# What sending never reads, left unloaded.
UNPLANNED_FIELDS = (
    "created_at",
    "queued_at",
    "queued_by",
    "claimed_at",
    "retry_after",
    "sent_at",
    "delivered_at",
    "bounced_at",
    "last_error",
    "skip_reason",
    "message_id",
    "subscriber__created_at",
    "subscriber__confirmed_at",
    "subscriber__unsubscribed_at",
    "subscriber__suppressed_reason",
    "subscriber__timezone",
    "subscriber__send_hour",
    "subscriber__send_weekday",
)


@dataclass
class Planned:
    """What one delivery will contain, or why it will not be sent."""

    delivery: Delivery
    picks: list[candidates.Pick] = field(default_factory=list)
    papers_through: dt.date | None = None
    skip_reason: str = ""
    suppressed: str = ""
    reused: bool = False  # the picks were recorded by an earlier attempt


@dataclass
class ChunkPlan:
    planned: list[Planned]
    papers: dict[int, Paper]
    profiles: dict[int, candidates.Profile]


@dataclass
class ChunkContext:
    """What the deliveries of one chunk share, read once for all of them."""

    recorded: dict[int, list[candidates.Pick]]  # delivery id -> picks an earlier attempt recorded
    previous: dict[int, dt.date]  # subscriber id -> the last day its sent digests covered
    previous_at: dict[int, dt.datetime]  # subscriber id -> when its latest digest was planned
    suppressed: set[str]  # address hashes on the suppression list
    announced_days: list[dt.date]  # days with papers, recent enough for the chunk's editions


def deliveries_for_chunk(delivery_ids: list[int]) -> list[Delivery]:
    """Return the deliveries with their subscribers and editions, in id order (two queries)."""
    deliveries = list(
        Delivery.objects.filter(pk__in=delivery_ids)
        .select_related("subscriber")
        .defer(*UNPLANNED_FIELDS)
        .order_by("pk")
    )
    editions = Edition.objects.in_bulk({d.edition_id for d in deliveries})
    for delivery in deliveries:
        delivery.edition = editions[delivery.edition_id]
    return deliveries


def window(*, cadence: str, latest: dt.date | None, previous: dt.date | None) -> Window | None:
    """Return the announcement days a digest covers, or None when nothing new was announced.

    A first digest covers the latest announcement day (the last seven days for
    weekly); later digests cover every day since the previous one, looking back
    at most DIGEST_DAILY_LOOKBACK_DAYS (daily) or seven days (weekly).
    """
    if latest is None:
        return None
    span = 7 if cadence == Subscriber.Cadence.WEEKLY else settings.DIGEST_DAILY_LOOKBACK_DAYS
    earliest = latest - dt.timedelta(days=span - 1)
    if previous is None:
        start = earliest if cadence == Subscriber.Cadence.WEEKLY else latest
    else:
        start = max(previous + dt.timedelta(days=1), earliest)
    return (start, latest) if start <= latest else None


def chunk_context(deliveries: list[Delivery]) -> ChunkContext:
    """Return the history a chunk's deliveries share (four queries, whatever the chunk's size)."""
    subscriber_ids = [d.subscriber_id for d in deliveries]
    delivery_ids = [d.pk for d in deliveries]
    # Earlier attempts of these deliveries already chose their papers: keep them. Recording a plan
    # sets papers_through, so a first attempt needs no look.
    recorded: dict[int, list[candidates.Pick]] = defaultdict(list)
    retried = [d.pk for d in deliveries if d.papers_through is not None]
    if retried:
        items = DeliveryItem.objects.filter(delivery_id__in=retried).order_by("delivery_id", "position")
        for item in items:
            recorded[item.delivery_id].append(
                candidates.Pick(item.paper_id, item.position, item.score, item.why)
            )
    history = (
        Delivery.objects.filter(subscriber_id__in=subscriber_ids, state__in=SENT_OR_SENDING)
        .exclude(pk__in=delivery_ids)
        .values("subscriber_id")
        .annotate(through=Max("papers_through"), at=Max("claimed_at"))
        .values_list("subscriber_id", "through", "at")
    )
    previous: dict[int, dt.date] = {}
    previous_at: dict[int, dt.datetime] = {}
    for subscriber_id, through, at in history:
        previous[subscriber_id] = through
        if at is not None:
            previous_at[subscriber_id] = at
    suppressed = set(
        Suppression.objects.filter(
            email_hash__in=[email_hash(d.subscriber.email) for d in deliveries]
        ).values_list("email_hash", flat=True)
    )
    newest = max((d.edition.date for d in deliveries), default=None)
    announced_days: list[dt.date] = []
    if newest is not None:
        oldest = newest - dt.timedelta(days=settings.DIGEST_MAX_GAP_DAYS)
        announced_days = sorted(
            Paper.objects.filter(hidden=False, announced_on__lte=newest, announced_on__gte=oldest)
            .order_by()
            .values_list("announced_on", flat=True)
            .distinct()
        )
    return ChunkContext(
        recorded=dict(recorded),
        previous=previous,
        previous_at=previous_at,
        suppressed=suppressed,
        announced_days=announced_days,
    )


def plan_delivery(delivery: Delivery, context: ChunkContext) -> tuple[Planned, Eligible | None]:
    """Return the plan of one delivery before selection, and what its papers may be."""
    plan = Planned(delivery=delivery)
    subscriber = delivery.subscriber
    if subscriber.status != Subscriber.Status.ACTIVE:
        plan.suppressed = f"subscriber is {subscriber.status}"
        return plan, None
    if email_hash(subscriber.email) in context.suppressed:
        plan.suppressed = "address is on the suppression list"
        return plan, None
    if delivery.pk in context.recorded:
        plan.picks, plan.reused = context.recorded[delivery.pk], True
        plan.papers_through = delivery.papers_through
        return plan, None
    edition = delivery.edition
    latest = max((day for day in context.announced_days if day <= edition.date), default=None)
    previous = context.previous.get(subscriber.pk)
    span = window(cadence=edition.cadence, latest=latest, previous=previous)
    since = context.previous_at.get(subscriber.pk)
    if latest is None or (span is None and since is None):
        plan.skip_reason = NOTHING_ANNOUNCED
        return plan, None
    plan.papers_through = span[1] if span else max(latest, previous or latest)
    return plan, Eligible(span=span, latest=latest, since=since)


NOTHING_ANNOUNCED = "no papers announced since the previous digest"


def chunk_plan(*, deliveries: list[Delivery]) -> ChunkPlan:
    """Return what each delivery of a chunk will contain; the query count does not grow with the chunk.

    ``deliveries`` must come with subscriber and edition (see deliveries_for_chunk).
    """
    context = chunk_context(deliveries)
    planned: list[Planned] = []
    eligible: dict[int, Eligible] = {}
    for delivery in deliveries:
        plan, found = plan_delivery(delivery, context)
        planned.append(plan)
        if found is not None:
            eligible[delivery.pk] = found
    papers = _papers(eligible.values(), context.recorded)
    rankable = [p for p in papers.values() if not p.hidden and p.announced_on]
    pins = _pins([p.pk for p in rankable])
    already = _already_sent(deliveries, rankable)
    learned = settings.DIGEST_RANKING == "learned"
    profiles = chunk_profiles(deliveries, feedback=not learned)
    readers = pools.readers(deliveries) if learned else {}
    chunk_pools = pools.Pools(rankable, pins, readers)
    for plan in planned:
        found = eligible.get(plan.delivery.pk)
        if found is None:
            continue
        pool, space = chunk_pools.get(found.span, pools.late(rankable, found))
        if not pool.by_id:
            plan.skip_reason = NOTHING_ANNOUNCED
            continue
        # Rules that match nothing today cannot change the digest: equal effective profiles share it.
        subscriber_id = plan.delivery.subscriber_id
        profile = pool.effective(profiles[subscriber_id])
        seen = frozenset(already.get(subscriber_id, set()) & pool.by_id.keys())
        reader = readers.get(subscriber_id)
        plan.picks = selection.selection_for(pool, profile, seen, reader=reader, space=space)
        if not plan.picks:
            plan.skip_reason = "no new papers matched your preferences"
    return ChunkPlan(planned=planned, papers=papers, profiles=profiles)


def _papers(eligible: Iterable[Eligible], recorded: dict[int, list[candidates.Pick]]) -> dict[int, Paper]:
    """Return, in one query, every paper a delivery may draw on, and the ones recorded earlier."""
    found = list(eligible)
    paper_filter = Q(pk__in={pick.paper_id for picks in recorded.values() for pick in picks})
    spans = [e.span for e in found if e.span]
    if spans:
        start, end = min(s[0] for s in spans), max(s[1] for s in spans)
        paper_filter |= Q(hidden=False, announced_on__gte=start, announced_on__lte=end)
    since = [e.since for e in found if e.since]
    if since:
        latest = max(e.latest for e in found)
        paper_filter |= Q(
            Q(first_seen_at__gt=min(since)) | Q(trending_since__gt=min(since)),
            hidden=False,
            announced_on__gte=latest - dt.timedelta(days=pools.LATE_DAYS - 1 + settings.DIGEST_MAX_GAP_DAYS),
            announced_on__lte=latest,
        )
    return {p.pk: p for p in Paper.objects.filter(paper_filter).only(*PAPER_FIELDS).order_by("pk")}


def _pins(paper_ids: list[int]) -> dict[int, frozenset[int]]:
    """Return, for each pinned paper, the topics the editors pinned it in."""
    pins: dict[int, set[int]] = defaultdict(set)
    rows = TopicPin.objects.filter(paper_id__in=paper_ids).values_list("paper_id", "topic_id")
    for paper_id, topic_id in rows:
        pins[paper_id].add(topic_id)
    return {pk: frozenset(topics) for pk, topics in pins.items()}


def _already_sent(deliveries: list[Delivery], rankable: list[Paper]) -> dict[int, set[int]]:
    """Return, per subscriber, which of the rankable papers an earlier digest already sent them.

    A digest planned after a paper was first seen covers days at most
    DIGEST_MAX_GAP_DAYS (and a time zone) older than that: digests older still
    cannot hold today's candidates and are not read.
    """
    already: dict[int, set[int]] = defaultdict(set)
    if not rankable:
        return already
    oldest = min(min(p.first_seen_at.date(), p.announced_on) for p in rankable)
    rows = (
        DeliveryItem.objects.filter(
            delivery__subscriber_id__in=[d.subscriber_id for d in deliveries],
            delivery__state__in=SENT_OR_SENDING,
            delivery__papers_through__gte=oldest - dt.timedelta(days=settings.DIGEST_MAX_GAP_DAYS + 1),
            paper_id__in=[p.pk for p in rankable],
        )
        .exclude(delivery_id__in=[d.pk for d in deliveries])
        .values_list("delivery__subscriber_id", "paper_id")
    )
    for subscriber_id, paper_id in rows:
        already[subscriber_id].add(paper_id)
    return already
