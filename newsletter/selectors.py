"""Reads for digests: who is due, and everything a chunk of deliveries needs, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import router
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from newsletter import selection
from newsletter.models import Delivery, DeliveryItem, Edition, TopicPin
from papers.models import Paper
from papers.names import name_key
from subscribers.models import Feedback, Subscriber, Suppression, Topic
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
    "upvotes",
    "featured",
    "hidden",
    "abs_url",
    "pdf_url",
    "hf_url",
    "code_url",
    "project_url",
)


# --- Who is due -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    subscriber_id: int
    cadence: str
    local_date: dt.date


def _local(now: dt.datetime, zone: str) -> dt.datetime:
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
    zones = list(active.order_by().values_list("timezone", flat=True).distinct())
    # Zones that share a local date, hour and weekday share one condition.
    groups: dict[tuple[dt.date, int, int], list[str]] = defaultdict(list)
    for zone in zones:
        local = _local(now, zone)
        groups[(local.date(), local.hour, local.weekday())].append(zone)

    due: list[tuple[str, dt.date, QuerySet[Subscriber]]] = []
    catchup = settings.DIGEST_CATCHUP_HOURS
    for (local_date, hour, weekday), zone_names in sorted(groups.items()):
        when = Q(timezone__in=zone_names)
        if not everyone:
            when &= Q(send_hour__lte=hour, send_hour__gt=hour - catchup)
        for cadence in (Subscriber.Cadence.DAILY, Subscriber.Cadence.WEEKLY):
            if cadence == Subscriber.Cadence.WEEKLY and not everyone:
                on_day = when & Q(cadence=cadence, send_weekday=weekday)
            else:
                on_day = when & Q(cadence=cadence)
            subscribers = active.filter(on_day).order_by("pk")
            if uncreated:
                already = Delivery.objects.filter(
                    subscriber=OuterRef("pk"), edition__date=local_date, edition__cadence=cadence
                )
                subscribers = subscribers.filter(~Exists(already))
            due.append((cadence, local_date, subscribers))
    return due


def subscribers_due(*, now: dt.datetime, everyone: bool = False) -> list[Due]:
    """Return the active subscribers whose digest is due at ``now`` and not yet created (see due_groups)."""
    return [
        Due(subscriber_id=pk, cadence=cadence, local_date=local_date)
        for cadence, local_date, subscribers in due_groups(now=now, everyone=everyone)
        for pk in subscribers.values_list("pk", flat=True)
    ]


# --- What a chunk needs ---------------------------------------------------------------------------------


@dataclass
class Planned:
    """What one delivery will contain, or why it will not be sent."""

    delivery: Delivery
    picks: list[selection.Pick] = field(default_factory=list)
    papers_through: dt.date | None = None
    skip_reason: str = ""
    suppressed: str = ""
    reused: bool = False  # the picks were recorded by an earlier attempt


@dataclass
class ChunkPlan:
    planned: list[Planned]
    papers: dict[int, Paper]
    profiles: dict[int, selection.Profile]


def window(
    *, cadence: str, latest: dt.date | None, previous: dt.date | None
) -> tuple[dt.date, dt.date] | None:
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


def topic_rule(topic: Topic) -> selection.TopicRule:
    return selection.TopicRule(
        id=topic.pk,
        name=topic.name,
        categories=frozenset(topic.categories),
        include=tuple(topic.include_keywords),
        exclude=tuple(topic.exclude_keywords),
    )


def profile_of(
    subscriber: Subscriber,
    feedback: Iterable[tuple[int, list[str], list[str]]] = (),
    *,
    topics: Iterable[selection.TopicRule] | None = None,
) -> selection.Profile:
    """Return the ranking profile of a subscriber.

    ``feedback`` is (value, categories, authors) of the papers it rated;
    ``topics`` its topics' rules (read from the subscriber when not given).
    """
    categories: dict[str, float] = defaultdict(float)
    authors: dict[str, float] = defaultdict(float)
    for value, paper_categories, paper_authors in feedback:
        for category in paper_categories or []:
            categories[category] += value
        for author in paper_authors or []:
            authors[name_key(author)] += value
    return selection.Profile(
        topics=tuple(
            sorted(
                topics if topics is not None else map(topic_rule, subscriber.topics.all()),
                key=lambda rule: rule.id,
            )
        ),
        keywords=tuple(subscriber.keywords),
        excluded=tuple(subscriber.excluded_keywords),
        authors=tuple(subscriber.authors),
        max_papers=subscriber.max_papers,
        feedback_categories=tuple(sorted((k, v) for k, v in categories.items() if v)),
        feedback_authors=tuple(sorted((k, v) for k, v in authors.items() if v)),
    )


# A worker plans chunk after chunk from the same few hundred papers. Each chunk reads them again
# (an editor may have just hidden or edited one), but a row equal to the one read before reuses
# that read's Paper and Candidate objects: building ~500 model instances per chunk was a tenth
# of a worker's time, and the same objects let the pool and the renderer hit their caches.
_PAPER_ROWS: dict[int, tuple[tuple[object, ...], Paper]] = {}
_CANDIDATES: dict[tuple[int, frozenset[int]], tuple[Paper, selection.Candidate]] = {}
PAPERS_KEPT = 5000


def papers_by_id(paper_filter: Q) -> dict[int, Paper]:
    """Return the papers matching ``paper_filter`` by id, with only PAPER_FIELDS loaded."""
    fields = _paper_columns()
    db = router.db_for_read(Paper)
    found: dict[int, Paper] = {}
    for row in Paper.objects.filter(paper_filter).values_list(*fields):
        kept = _PAPER_ROWS.get(row[0])
        if kept is None or kept[0] != row:
            kept = (row, Paper.from_db(db, fields, row))
            _PAPER_ROWS[row[0]] = kept
        found[row[0]] = kept[1]
    if len(_PAPER_ROWS) > PAPERS_KEPT:
        _PAPER_ROWS.clear()
        _CANDIDATES.clear()
    return found


@cache
def _paper_columns() -> tuple[str, ...]:
    """Return PAPER_FIELDS in the model's field order, as Model.from_db wants them ("id" first)."""
    return tuple(f.attname for f in Paper._meta.concrete_fields if f.attname in PAPER_FIELDS)


def candidate(paper: Paper, pins: dict[int, frozenset[int]]) -> selection.Candidate:
    """Return the paper as the ranker sees it (the same object again for the same Paper and pins)."""
    topics = pins.get(paper.pk, frozenset())
    kept = _CANDIDATES.get((paper.pk, topics))
    if kept is not None and kept[0] is paper:
        return kept[1]
    made = selection.Candidate(
        id=paper.pk,
        title=paper.title,
        abstract=paper.abstract,
        categories=tuple(paper.categories),
        primary_category=paper.primary_category,
        author_names=tuple(paper.author_names),
        upvotes=paper.upvotes,
        featured=paper.featured,
        pinned_topics=topics,
    )
    _CANDIDATES[(paper.pk, topics)] = (paper, made)
    return made


_POOLS: dict[tuple[selection.Candidate, ...], selection.CandidatePool] = {}
POOLS_KEPT = 4


def shared_pool(candidates: Iterable[selection.Candidate]) -> selection.CandidatePool:
    """Return the pool of these candidates, reusing this process's pool of the same papers.

    A worker plans chunk after chunk from the same day's papers; matching every
    keyword against every abstract again for each chunk was most of the
    planning time. A pool is reused only for exactly equal candidates (an
    edited, hidden or newly pinned paper makes a new one); the few newest are kept.
    """
    key = tuple(sorted(candidates, key=lambda c: c.id))
    pool = _POOLS.pop(key, None)
    if pool is None:
        pool = selection.CandidatePool(key)
    _POOLS[key] = pool  # most recently used last
    while len(_POOLS) > POOLS_KEPT:
        del _POOLS[next(iter(_POOLS))]
    return pool


def chunk_plan(*, deliveries: list[Delivery]) -> ChunkPlan:
    """Return what each delivery of a chunk will contain; the query count does not grow with the chunk.

    ``deliveries`` must come with subscriber and edition (see deliveries_for_chunk).
    """
    subscriber_ids = [d.subscriber_id for d in deliveries]
    delivery_ids = [d.pk for d in deliveries]

    # Earlier attempts of these deliveries already chose their papers: keep them. Recording a plan
    # sets papers_through, so the usual first attempt needs no look.
    recorded: dict[int, list[selection.Pick]] = defaultdict(list)
    retried = [d.pk for d in deliveries if d.papers_through is not None]
    for item in (
        DeliveryItem.objects.filter(delivery_id__any=retried).order_by("delivery_id", "position")
        if retried
        else ()
    ):
        recorded[item.delivery_id].append(selection.Pick(item.paper_id, item.position, item.score, item.why))

    previous = dict(
        Delivery.objects.filter(subscriber_id__any=subscriber_ids, state__in=SENT_OR_SENDING)
        .exclude(pk__any=delivery_ids)
        .values("subscriber_id")
        .annotate(through=Max("papers_through"))
        .values_list("subscriber_id", "through")
    )
    suppressed = set(
        Suppression.objects.filter(
            email_hash__any=[email_hash(d.subscriber.email) for d in deliveries]
        ).values_list("email_hash", flat=True)
    )

    newest_edition = max((d.edition.date for d in deliveries), default=None)
    announced_days = (
        sorted(
            Paper.objects.filter(
                hidden=False,
                announced_on__lte=newest_edition,
                announced_on__gte=newest_edition - dt.timedelta(days=settings.DIGEST_MAX_GAP_DAYS),
            )
            .order_by()
            .values_list("announced_on", flat=True)
            .distinct()
        )
        if newest_edition
        else []
    )

    planned: list[Planned] = []
    windows: dict[int, tuple[dt.date, dt.date]] = {}
    for delivery in deliveries:
        plan = Planned(delivery=delivery)
        planned.append(plan)
        subscriber = delivery.subscriber
        if subscriber.status != Subscriber.Status.ACTIVE:
            plan.suppressed = f"subscriber is {subscriber.status}"
            continue
        if email_hash(subscriber.email) in suppressed:
            plan.suppressed = "address is on the suppression list"
            continue
        if delivery.pk in recorded:
            plan.picks, plan.reused = recorded[delivery.pk], True
            plan.papers_through = delivery.papers_through
            continue
        latest = max((day for day in announced_days if day <= delivery.edition.date), default=None)
        span = window(cadence=delivery.edition.cadence, latest=latest, previous=previous.get(subscriber.pk))
        if span is None:
            plan.skip_reason = "no papers announced since the previous digest"
            continue
        windows[delivery.pk] = span
        plan.papers_through = span[1]

    # One query for every paper any delivery may draw on (and the recorded ones).
    start = min((span[0] for span in windows.values()), default=None)
    end = max((span[1] for span in windows.values()), default=None)
    recorded_ids = {pick.paper_id for picks in recorded.values() for pick in picks}
    paper_filter = Q(pk__in=recorded_ids)
    if start is not None:
        paper_filter |= Q(hidden=False, announced_on__gte=start, announced_on__lte=end)
    papers = papers_by_id(paper_filter)
    candidate_ids = [pk for pk, paper in papers.items() if not paper.hidden and paper.announced_on]

    pins: dict[int, set[int]] = defaultdict(set)
    for paper_id, topic_id in TopicPin.objects.filter(paper_id__any=candidate_ids).values_list(
        "paper_id", "topic_id"
    ):
        pins[paper_id].add(topic_id)
    frozen_pins = {pk: frozenset(topics) for pk, topics in pins.items()}

    # Repeat-avoidance: papers each subscriber was already sent, in any earlier digest. A digest
    # planned after a paper was first seen covers days at most DIGEST_MAX_GAP_DAYS (and a time zone)
    # older than that: digests older still cannot hold today's candidates and are not read.
    already: dict[int, set[int]] = defaultdict(set)
    oldest = min(
        (min(papers[pk].first_seen_at.date(), papers[pk].announced_on) for pk in candidate_ids), default=None
    )
    for subscriber_id, paper_id in (
        DeliveryItem.objects.filter(
            delivery__subscriber_id__any=subscriber_ids,
            delivery__state__in=SENT_OR_SENDING,
            delivery__papers_through__gte=oldest - dt.timedelta(days=settings.DIGEST_MAX_GAP_DAYS + 1),
            paper_id__any=candidate_ids,
        )
        .exclude(delivery_id__any=delivery_ids)
        .values_list("delivery__subscriber_id", "paper_id")
        if oldest is not None
        else ()
    ):
        already[subscriber_id].add(paper_id)

    feedback: dict[int, list[tuple[int, list[str], list[str]]]] = defaultdict(list)
    for subscriber_id, value, categories, authors in (
        Feedback.objects.filter(subscriber_id__any=subscriber_ids)
        .order_by("-created_at")
        .values_list("subscriber_id", "value", "paper__categories", "paper__author_names")[
            : settings.DIGEST_FEEDBACK_LIMIT * max(1, len(subscriber_ids))
        ]
    ):
        if len(feedback[subscriber_id]) < settings.DIGEST_FEEDBACK_LIMIT:
            feedback[subscriber_id].append((value, categories, authors))

    rules = {topic.pk: topic_rule(topic) for topic in Topic.objects.all()}  # a handful, shared
    chosen_topics: dict[int, list[selection.TopicRule]] = defaultdict(list)
    for subscriber_id, topic_id in Subscriber.topics.through.objects.filter(
        subscriber_id__any=subscriber_ids
    ).values_list("subscriber_id", "topic_id"):
        chosen_topics[subscriber_id].append(rules[topic_id])
    profiles = {
        d.subscriber_id: profile_of(
            d.subscriber, feedback.get(d.subscriber_id, ()), topics=chosen_topics.get(d.subscriber_id, [])
        )
        for d in deliveries
    }

    # Pools by window; selections memoised in the pool by (profile, what was already sent from it).
    pools: dict[tuple[dt.date, dt.date], selection.CandidatePool] = {}
    for plan in planned:
        span = windows.get(plan.delivery.pk)
        if span is None:
            continue
        pool = pools.get(span)
        if pool is None:
            pool = shared_pool(
                candidate(papers[pk], frozen_pins)
                for pk in candidate_ids
                if span[0] <= papers[pk].announced_on <= span[1]
            )
            pools[span] = pool
        # Rules that match nothing today cannot change the digest: equal effective profiles share it.
        profile = pool.effective(profiles[plan.delivery.subscriber_id])
        seen = frozenset(already.get(plan.delivery.subscriber_id, set()) & pool.by_id.keys())
        plan.picks = pool.selection_for(profile, seen)
        if not plan.picks:
            plan.skip_reason = "no new papers matched your preferences"
    return ChunkPlan(planned=planned, papers=papers, profiles=profiles)


# What sending never reads: left unloaded (parsing timestamps was a visible share of a chunk).
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


def deliveries_for_chunk(delivery_ids: list[int]) -> list[Delivery]:
    """Return the deliveries with their subscribers and editions, in id order (two queries).

    A chunk has one or two editions: each is loaded once, not once per row.
    """
    deliveries = list(
        Delivery.objects.filter(pk__any=delivery_ids)
        .select_related("subscriber")
        .defer(*UNPLANNED_FIELDS)
        .order_by("pk")
    )
    editions = Edition.objects.in_bulk({d.edition_id for d in deliveries})
    for delivery in deliveries:
        delivery.edition = editions[delivery.edition_id]
    return deliveries


def delivery_html(*, delivery: Delivery) -> str:
    """Return the HTML of a recorded delivery, rendered as it was mailed (with real links)."""
    from newsletter import rendering, services

    items = list(delivery.items.select_related("paper").order_by("position"))
    picks = [selection.Pick(i.paper_id, i.position, i.score, i.why) for i in items]
    papers = {i.paper_id: i.paper for i in items}
    profile = profile_of(delivery.subscriber)
    content = rendering.render_digest(edition=delivery.edition, picks=picks, papers=papers, profile=profile)
    return rendering.personalise(content, services.personal_parts(delivery))[2]


def feed_items(*, subscriber: Subscriber, days: int = 30, limit: int = 100) -> list[DeliveryItem]:
    """Return the papers of a subscriber's recent sent digests, newest first."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return list(
        DeliveryItem.objects.filter(
            delivery__subscriber=subscriber, delivery__state=Delivery.State.SENT, delivery__sent_at__gte=since
        )
        .select_related("paper", "delivery")
        .order_by("-delivery__sent_at", "position")[:limit]
    )


@dataclass
class Preview:
    """What a subscriber would be sent now: the plan, and the message if there is one."""

    planned: Planned
    items: list[tuple[Paper, selection.Pick]] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str = ""


def digest_preview(*, subscriber: Subscriber, now: dt.datetime) -> Preview:
    """Return the digest ``subscriber`` would get at ``now``, without recording or sending anything.

    Its links are placeholders (services.placeholder_parts): a preview is for editors' eyes.
    """
    from newsletter import rendering, services

    local_date = _local(now, subscriber.timezone).date()
    edition = Edition.objects.filter(cadence=subscriber.cadence, date=local_date).first() or Edition(
        cadence=subscriber.cadence, date=local_date
    )
    # An unsaved delivery with an id no row has, so the plan reads history but finds no earlier attempt.
    draft = Delivery(pk=0, subscriber=subscriber, edition=edition)
    subscriber = Subscriber.objects.prefetch_related("topics").get(pk=subscriber.pk)
    draft.subscriber = subscriber
    if subscriber.status != Subscriber.Status.ACTIVE:
        # Preview what an active subscription would get, whatever the status.
        subscriber.status = Subscriber.Status.ACTIVE
    plan = chunk_plan(deliveries=[draft])
    planned = plan.planned[0]
    preview = Preview(planned=planned, items=[(plan.papers[p.paper_id], p) for p in planned.picks])
    if planned.picks and not planned.suppressed:
        content = rendering.render_digest(
            edition=edition, picks=planned.picks, papers=plan.papers, profile=plan.profiles[subscriber.pk]
        )
        preview.subject, preview.text, preview.html = rendering.personalise(
            content, services.placeholder_parts(subscriber)
        )
    return preview


# --- The editor console ------------------------------------------------------------------------------


def dashboard(*, now: dt.datetime) -> dict[str, object]:
    """Return today's figures for the admin index (a fixed number of queries)."""
    from django.db.models import Count, Sum

    from newsletter.models import DispatchRun
    from papers.models import Feed, FetchRun

    today = now.date()
    ingested = list(
        FetchRun.objects.filter(started_at__date=today)
        .values("feed_id", "feed__name")
        .annotate(
            runs=Count("id"),
            new=Sum("new"),
            updated=Sum("updated"),
            errors=Count("id", filter=Q(status="error")),
        )
        .order_by("feed__name")
    )
    states = dict(Subscriber.objects.values_list("status").annotate(n=Count("id")).order_by())
    deliveries_today = dict(
        Delivery.objects.filter(created_at__date=today)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    lease_expired = now - dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
    # Papers count on the day they were announced, whenever they were loaded.
    latest = (
        Paper.objects.filter(announced_on__lte=today)
        .values("announced_on")
        .annotate(n=Count("id"))
        .order_by("-announced_on")
        .first()
    )
    return {
        "ingested": ingested,
        "papers_today": latest["n"] if latest and latest["announced_on"] == today else 0,
        "latest_announcement": latest,
        "subscribers": [(label, states.get(value, 0), value) for value, label in Subscriber.Status.choices],
        "new_subscribers_7d": Subscriber.objects.filter(created_at__gte=now - dt.timedelta(days=7)).count(),
        "last_dispatch": DispatchRun.objects.order_by("-started_at").first(),
        "deliveries_today": [
            (label, deliveries_today.get(value, 0), value) for value, label in Delivery.State.choices
        ],
        "failed_deliveries": Delivery.objects.filter(state=Delivery.State.FAILED).count(),
        "stuck_deliveries": Delivery.objects.filter(
            state=Delivery.State.SENDING, claimed_at__lt=lease_expired
        ).count(),
        "feeds_in_error": Feed.objects.filter(enabled=True, last_status=Feed.Status.ERROR).count(),
    }


@dataclass
class EditionSummary:
    """What an edition holds: its deliveries by state, why some were not sent, and the papers it sent."""

    total: int
    states: list[tuple[str, int, str]]  # (label, count, state)
    bounced: int
    delivered: int
    first_sent: dt.datetime | None
    last_sent: dt.datetime | None
    skip_reasons: list[tuple[str, int]]
    errors: list[tuple[str, int]]
    papers: list[tuple[Paper, int, int]]  # (paper, digests it was in, digests it led)
    paper_count: int


def edition_summary(*, edition: Edition, papers_limit: int = 100) -> EditionSummary:
    """Return what ``edition`` holds, for its admin page (a fixed number of queries)."""
    from django.db.models import Count, Min

    deliveries = Delivery.objects.filter(edition=edition)
    by_state = dict(deliveries.values_list("state").annotate(n=Count("id")).order_by())
    totals = deliveries.aggregate(
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        first_sent=Min("sent_at"),
        last_sent=Max("sent_at"),
    )

    def reasons(field: str, state: str) -> list[tuple[str, int]]:
        return list(
            deliveries.filter(state=state)
            .exclude(**{field: ""})
            .values_list(field)
            .annotate(n=Count("id"))
            .order_by("-n", field)[:10]
        )

    items = DeliveryItem.objects.filter(delivery__edition=edition)
    counts = list(
        items.values("paper_id")
        .annotate(n=Count("id"), led=Count("id", filter=Q(position=1)))
        .order_by("-n", "-led", "paper_id")
    )
    shown = {row["paper_id"]: row for row in counts[:papers_limit]}
    papers = Paper.objects.in_bulk(shown.keys()) if shown else {}
    return EditionSummary(
        total=sum(by_state.values()),
        states=[(label, by_state.get(value, 0), value) for value, label in Delivery.State.choices],
        bounced=totals["bounced"],
        delivered=totals["delivered"],
        first_sent=totals["first_sent"],
        last_sent=totals["last_sent"],
        skip_reasons=reasons("skip_reason", Delivery.State.SKIPPED),
        errors=reasons("last_error", Delivery.State.FAILED),
        papers=[(papers[pk], row["n"], row["led"]) for pk, row in shown.items() if pk in papers],
        paper_count=len(counts),
    )


def topic_preview(*, topic: object, limit: int = 30) -> tuple[dt.date | None, list[tuple[Paper, str]]]:
    """Return the latest announcement day and the papers of that day ``topic`` matches now, with why-lines."""
    latest = Paper.objects.filter(hidden=False).aggregate(latest=Max("announced_on"))["latest"]
    if latest is None:
        return None, []
    papers = {p.pk: p for p in Paper.objects.filter(hidden=False, announced_on=latest).only(*PAPER_FIELDS)}
    pins: dict[int, set[int]] = defaultdict(set)
    for paper_id, topic_id in TopicPin.objects.filter(paper_id__in=papers).values_list(
        "paper_id", "topic_id"
    ):
        pins[paper_id].add(topic_id)
    frozen = {pk: frozenset(ids) for pk, ids in pins.items()}
    pool = selection.CandidatePool(candidate(p, frozen) for p in papers.values())
    rule = topic_rule(topic)  # type: ignore[arg-type]
    picks = selection.select(selection.Profile(topics=(rule,), max_papers=limit), pool)
    return latest, [(papers[pick.paper_id], pick.why) for pick in picks]
