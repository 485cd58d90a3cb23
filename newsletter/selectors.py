"""Reads for the editor console and the subscriber's feed: today's figures, topic previews, sent papers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from newsletter import candidates, planning, pools, selection
from newsletter.models import Delivery, DeliveryItem, DispatchRun, TopicPin
from papers.models import Feed, FetchRun, Paper
from subscribers.models import Subscriber, Topic


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
    return {
        "ingested": ingested,
        "papers_today": Paper.objects.filter(first_seen_at__date=today).count(),
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
    rule = planning.topic_rule(topic)
    picks = selection.select(candidates.Profile(topics=(rule,), max_papers=limit), pool)
    return latest, [(papers[pick.paper_id], pick.why) for pick in picks]
