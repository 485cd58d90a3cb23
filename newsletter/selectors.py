"""Reads for the editor console and the subscriber's feed: today's figures, topic previews, sent papers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum

from newsletter import candidates, planning, pools, profiles, selection
from newsletter.models import Delivery, DeliveryItem, DispatchRun, Edition
from papers.models import Feed, FetchRun, Paper, Topic, TopicPin
from subscribers.models import Subscriber


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


# --- The editor console ------------------------------------------------------------------------------


def dashboard(*, now: dt.datetime) -> dict[str, object]:
    """Return today's figures for the admin index (a fixed number of queries)."""
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


def topic_preview(*, topic: Topic, limit: int = 30) -> tuple[dt.date | None, list[tuple[Paper, str]]]:
    """Return the latest announcement day and the papers of that day ``topic`` matches now, with why-lines."""
    latest = Paper.objects.filter(hidden=False).aggregate(latest=Max("announced_on"))["latest"]
    if latest is None:
        return None, []
    papers = {
        p.pk: p for p in Paper.objects.filter(hidden=False, announced_on=latest).only(*planning.PAPER_FIELDS)
    }
    pins: dict[int, set[int]] = defaultdict(set)
    for paper_id, topic_id in TopicPin.objects.filter(paper_id__in=papers).values_list(
        "paper_id", "topic_id"
    ):
        pins[paper_id].add(topic_id)
    pool = candidates.CandidatePool(pools.candidate(p, frozenset(pins[p.pk])) for p in papers.values())
    rule = profiles.topic_rule(topic)
    picks = selection.select(candidates.Profile(topics=(rule,), max_papers=limit), pool)
    return latest, [(papers[pick.paper_id], pick.why) for pick in picks]
