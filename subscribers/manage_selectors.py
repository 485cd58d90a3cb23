"""Reads for the preference centre: when the next digest comes, the papers to rate, the searches followed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from papers.models import Paper
from subscribers.models import Feedback, SavedSearch, Subscriber


@dataclass(frozen=True)
class NextDigest:
    """When a subscriber's next digest is due, in their own time zone."""

    at: dt.datetime  # in the subscriber's zone
    zone: str
    under_way: bool  # the delivery time passed a little while ago: the next dispatch run sends it

    @property
    def day(self) -> str:
        return f"{self.at:%A} {self.at.day} {self.at:%B}"

    @property
    def time(self) -> str:
        return f"{self.at:%H:%M}"

    @property
    def weekday(self) -> str:
        return f"{self.at:%A}"


def next_digest(*, subscriber: Subscriber, now: dt.datetime | None = None) -> NextDigest | None:
    """Return when an active subscriber's next digest is due; None for anyone else.

    Reckoned as the dispatcher reckons who is due (in the newsletter app): a
    digest is due at the subscriber's hour in their zone, on their weekday if
    weekly, or later that day within DIGEST_CATCHUP_HOURS if no digest of that
    day was made yet. A digest with no new papers is not sent.
    """
    if subscriber.status != Subscriber.Status.ACTIVE:
        return None
    try:
        zone = ZoneInfo(subscriber.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or timezone.now()).astimezone(zone)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        if subscriber.cadence == Subscriber.Cadence.WEEKLY and day.weekday() != subscriber.send_weekday:
            continue
        at = dt.datetime.combine(day, dt.time(subscriber.send_hour), tzinfo=zone)
        if at > local:
            return NextDigest(at=at, zone=zone.key, under_way=False)
        if (
            local.hour < subscriber.send_hour + settings.DIGEST_CATCHUP_HOURS
            and not subscriber.deliveries.filter(
                edition__date=day, edition__cadence=subscriber.cadence
            ).exists()
        ):
            return NextDigest(at=at, zone=zone.key, under_way=True)
    return None


def saved_searches_of(*, subscriber: Subscriber) -> list[SavedSearch]:
    """Return the subscriber's saved searches, oldest first."""
    return list(subscriber.saved_searches.all()[: SavedSearch.MAX_PER_SUBSCRIBER])


@dataclass(frozen=True)
class RatedPaper:
    """A paper on the preference centre's list and the reader's rating of it (None: not rated)."""

    paper: Paper
    value: int | None = None


@dataclass(frozen=True)
class Ratings:
    """What the preference centre lists: recent digests' papers, seed papers, and other rated papers."""

    recent: list[RatedPaper]
    seeds: list[Feedback]
    others: list[Feedback]


def ratings_of(*, subscriber: Subscriber, digests: int = 10, limit: int = 50) -> Ratings:
    """Return the papers of the subscriber's last ``digests`` sent digests with their ratings, and the rest.

    Bounded: at most ``limit`` papers in each list, in four queries whatever the history.
    """
    deliveries = subscriber.deliveries.filter(sent_at__isnull=False).order_by("-sent_at")[:digests]
    recent_ids: list[int] = []
    for paper_id in (
        Paper.objects.filter(delivery_items__delivery__in=list(deliveries.values_list("pk", flat=True)))
        .order_by("-delivery_items__delivery__sent_at", "delivery_items__position")
        .values_list("pk", flat=True)[: limit * 2]
    ):
        if paper_id not in recent_ids and len(recent_ids) < limit:
            recent_ids.append(paper_id)
    papers = Paper.objects.in_bulk(recent_ids)
    rated = {
        choice.paper_id: choice
        for choice in subscriber.feedback.select_related("paper").order_by("-created_at")[: limit * 3]
    }
    ratings = {f.paper_id: f.value for f in subscriber.feedback.filter(paper_id__in=recent_ids)}
    return Ratings(
        recent=[RatedPaper(papers[pk], ratings.get(pk)) for pk in recent_ids if pk in papers],
        seeds=[f for f in rated.values() if f.source == Feedback.Source.SEED][:limit],
        others=[f for f in rated.values() if f.source != Feedback.Source.SEED and f.paper_id not in papers][
            :limit
        ],
    )


def paper_rateable(*, subscriber: Subscriber, paper_id: int) -> Paper | None:
    """Return the paper if the subscriber may rate it here: one sent to them, or one they rated."""
    return (
        Paper.objects.filter(pk=paper_id)
        .filter(Q(delivery_items__delivery__subscriber=subscriber) | Q(feedback__subscriber=subscriber))
        .first()
    )
