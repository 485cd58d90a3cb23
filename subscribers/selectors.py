"""Reads for subscriptions."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from papers.models import Paper, Topic
from papers.references import ReferenceError, arxiv_ids_from_text
from subscribers.models import ConsentRecord, Feedback, LinkEmail, SavedSearch, Subscriber, Suppression
from subscribers.preferences import Preferences, SignupExtras
from subscribers.tokens import Purpose, TokenData, address_tag_matches, email_hash, read_token


def topics_offered() -> QuerySet[Topic]:
    """Return the topics shown on the sign-up form, in their order."""
    return Topic.objects.filter(active=True).order_by("position", "name")


# Topics change a few times a year; every sign-up form is built and checked against them.
TOPIC_CHOICES_SECONDS = 30.0
_topic_choices: tuple[float, tuple[tuple[str, str], ...]] | None = None


def topic_choices() -> tuple[tuple[str, str], ...]:
    """Return (slug, name) of each topic offered on the forms, in order.

    Kept in this process for TOPIC_CHOICES_SECONDS. Saving or deleting a topic
    clears this process's copy at once; other processes follow within that time.
    """
    global _topic_choices
    now = time.monotonic()
    if _topic_choices is None or now - _topic_choices[0] > TOPIC_CHOICES_SECONDS:
        _topic_choices = (now, tuple(topics_offered().values_list("slug", "name")))
    return _topic_choices[1]


def forget_topic_choices(**_signal: object) -> None:
    """Drop this process's copy of the topic choices (connected to Topic saves and deletes)."""
    global _topic_choices
    _topic_choices = None


def subscriber_from_token(data: TokenData) -> Subscriber | None:
    """Return the subscriber a verified token names, or None if it is gone (erased) or re-used."""
    subscriber = Subscriber.objects.filter(pk=data.subscriber_id).first()
    if subscriber is None or not address_tag_matches(subscriber.email, data.address_tag):
        return None
    return subscriber


def subscriber_for(purpose: Purpose, token: str) -> Subscriber | None:
    """Return the subscriber named by a genuine token for ``purpose``.

    Raises TokenExpired or TokenInvalid; returns None when the subscriber is gone.
    """
    return subscriber_from_token(read_token(purpose, token))


def address_blocked(*, email: str) -> bool:
    """Return whether no email at all may go to ``email``: a bounce, a complaint or an admin suppressed it.

    An erasure stops digests only: signing up again and confirming is how the person comes back.
    """
    return (
        Suppression.objects.filter(email_hash=email_hash(email))
        .exclude(reason=Suppression.Reason.ERASED)
        .exists()
    )


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

    Reckoned as the dispatcher does (``newsletter.selectors.due_groups``): a
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


def preferences_summary(preferences: Preferences, *, spell_out: bool = True) -> list[tuple[str, str]]:
    """Return (label, value) lines that say what ``preferences`` ask for, as a person would read them.

    Without ``spell_out`` the words anyone can type (keywords, authors) are
    counted, not quoted: that is how an email shows a sign-up a stranger may
    have filled in, so nobody can make papermail mail their text to someone.
    """
    names = dict(Topic.objects.filter(slug__in=preferences.topics).values_list("slug", "name"))
    when = f"at {preferences.send_hour:02d}:00 ({preferences.timezone} time)"
    if preferences.cadence == Subscriber.Cadence.WEEKLY:
        delivery = f"Weekly, on {Subscriber.Weekday(preferences.send_weekday).label} {when}"
    else:
        delivery = f"Daily, {when}"
    lines = [("Topics", ", ".join(names[slug] for slug in preferences.topics if slug in names) or "none")]
    if preferences.categories:
        crosslists = "cross-lists included" if preferences.include_crosslists else "primary category only"
        lines.append(("arXiv categories", f"{', '.join(preferences.categories)} ({crosslists})"))
    if spell_out:
        lines.append(("Keywords", ", ".join(preferences.keywords) or "none"))
        if preferences.excluded_keywords:
            lines.append(("Excluding", ", ".join(preferences.excluded_keywords)))
        lines.append(("Authors", ", ".join(preferences.authors) or "none"))
    else:
        keywords = _count(len(preferences.keywords), "keyword")
        if preferences.excluded_keywords:
            keywords += f", {_count(len(preferences.excluded_keywords), 'excluded keyword')}"
        lines.append(("Keywords", keywords))
        lines.append(("Authors", _count(len(preferences.authors), "author")))
    lines.append(("Delivery", delivery))
    if preferences.max_papers is not None:
        lines.append(("At most", f"{preferences.max_papers} papers"))
    return lines


def extras_summary(extras: SignupExtras, *, spell_out: bool = True) -> list[tuple[str, str]]:
    """Return (label, value) lines for a sign-up's seeds and saved searches (counted unless ``spell_out``)."""
    lines = []
    if extras.seed_papers:
        titles = dict(Paper.objects.filter(arxiv_id__in=extras.seed_papers).values_list("arxiv_id", "title"))
        # Titles hold commas: "; " keeps them apart.
        named = "; ".join(titles.get(arxiv_id, arxiv_id) for arxiv_id in extras.seed_papers)
        lines.append(("Papers you like", named if spell_out else _count(len(extras.seed_papers), "paper")))
    if extras.saved_searches:
        searches = ", ".join(
            f"“{s['query']}”" + (f" in {s['category']}" if s["category"] else "")
            for s in extras.saved_searches
        )
        lines.append(
            ("Saved searches", searches if spell_out else _count(len(extras.saved_searches), "saved search"))
        )
    return lines


def signup_context(*, form: Any) -> dict[str, Any]:
    """Return what the sign-up page says of the paper it starts from and the search it follows.

    The paper is the one the site's "Get papers like this" link put in the
    form's seed papers (a form sent back shows what was typed instead).
    """
    liked = "" if form.is_bound else str(form.initial.get("seed_papers", ""))
    try:
        ids, unknown = arxiv_ids_from_text(liked, limit=1)
    except ReferenceError:
        ids, unknown = [], ["?"]
    seed = ids[0] if ids and not unknown else ""
    paper = (
        Paper.objects.filter(arxiv_id=seed, hidden=False).only("arxiv_id", "title").first() if seed else None
    )
    return {
        "topics": [{"slug": slug, "name": name} for slug, name in topic_choices()],
        "seed_paper": paper,
        "seed_id": seed,
        "search_query": form["search_query"].value() or "",
        "search_category": form["search_category"].value() or "",
    }


def saved_searches_of(*, subscriber: Subscriber) -> list[SavedSearch]:
    """Return the subscriber's saved searches, oldest first."""
    return list(subscriber.saved_searches.all()[: SavedSearch.MAX_PER_SUBSCRIBER])


def _count(n: int, noun: str) -> str:
    plural = "es" if noun.endswith("h") else "s"
    return "none" if n == 0 else f"{n} {noun}{plural if n != 1 else ''}"


@dataclass(frozen=True)
class SignupChoices:
    """What confirming one sign-up would do, in words: for its email and its confirmation page."""

    requested: list[tuple[str, str]]
    requested_counted: list[tuple[str, str]]  # keywords and authors counted, for the email
    current: list[tuple[str, str]]  # the choices in force; empty unless the address is subscribed
    subscribed: bool  # active or paused: confirming changes the choices of a running subscription
    paused: bool  # confirming also resumes the digests
    changes: bool  # confirming would change anything at all
    superseded: bool  # a newer sign-up was confirmed: this one would change nothing


def signup_choices(*, subscriber: Subscriber, consent: ConsentRecord) -> SignupChoices:
    """Return what confirming ``consent`` would do to ``subscriber``."""
    subscribed = subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PAUSED)
    paused = subscriber.status == Subscriber.Status.PAUSED
    current = Preferences.of(subscriber)
    requested = Preferences.requested(subscriber, consent)
    extras = SignupExtras.requested(consent)
    return SignupChoices(
        requested=preferences_summary(requested) + extras_summary(extras),
        requested_counted=preferences_summary(requested, spell_out=False)
        + extras_summary(extras, spell_out=False),
        current=preferences_summary(current) if subscribed else [],
        subscribed=subscribed,
        paused=paused,
        changes=not subscribed or paused or requested != current or bool(extras.as_dict()),
        superseded=consent.superseded(),
    )


def consent_for(*, subscriber: Subscriber, consent_id: int | None) -> ConsentRecord | None:
    """Return the sign-up a confirmation link names (its latest sign-up, for a link that names none)."""
    if consent_id is not None:
        return subscriber.consents.filter(pk=consent_id).first()
    return subscriber.consents.order_by("-submitted_at").first()


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


def rating_of(*, subscriber: Subscriber, paper: Paper) -> int | None:
    """Return the subscriber's rating of ``paper`` (+1 more, -1 less), or None if not rated."""
    return subscriber.feedback.filter(paper=paper).values_list("value", flat=True).first()


def paper_rateable(*, subscriber: Subscriber, paper_id: int) -> Paper | None:
    """Return the paper if the subscriber may rate it here: one sent to them, or one they rated."""
    return (
        Paper.objects.filter(pk=paper_id)
        .filter(Q(delivery_items__delivery__subscriber=subscriber) | Q(feedback__subscriber=subscriber))
        .first()
    )


def subscriber_export(*, subscriber: Subscriber) -> dict[str, Any]:
    """Return everything stored about a subscriber, as JSON-ready data."""

    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "created_at": when(subscriber.created_at),
        "confirmed_at": when(subscriber.confirmed_at),
        "unsubscribed_at": when(subscriber.unsubscribed_at),
        "suppressed_reason": subscriber.suppressed_reason,
        "preferences": {
            "topics": [{"slug": t.slug, "name": t.name} for t in subscriber.topics.order_by("position")],
            "keywords": subscriber.keywords,
            "excluded_keywords": subscriber.excluded_keywords,
            "authors": subscriber.authors,
            "cadence": subscriber.cadence,
            "timezone": subscriber.timezone,
            "send_hour": subscriber.send_hour,
            "send_weekday": subscriber.get_send_weekday_display(),
            "max_papers": subscriber.max_papers,
            "categories": subscriber.categories,
            "include_crosslists": subscriber.include_crosslists,
        },
        "saved_searches": [
            {"query": saved.query, "filters": saved.filters, "created_at": when(saved.created_at)}
            for saved in subscriber.saved_searches.all()
        ],
        "consent_records": [
            {
                "form": consent.form_id,
                "wording_version": consent.wording_version,
                "wording": consent.wording,
                "requested_preferences": consent.requested_preferences,
                "submitted_at": when(consent.submitted_at),
                "submitted_ip": consent.submitted_ip,
                "submitted_user_agent": consent.submitted_user_agent,
                "confirmed_at": when(consent.confirmed_at),
                "confirmed_ip": consent.confirmed_ip,
                "confirmed_user_agent": consent.confirmed_user_agent,
            }
            for consent in subscriber.consents.order_by("submitted_at")
        ],
        "feedback": [
            {
                "paper": f.paper.arxiv_id,
                "title": f.paper.title,
                "value": f.get_value_display(),
                "at": when(f.created_at),
            }
            for f in subscriber.feedback.select_related("paper").order_by("created_at")
        ],
        "deliveries": [
            {
                "edition": str(d.edition),
                "state": d.state,
                "sent_at": when(d.sent_at),
                "papers": [i.paper.arxiv_id for i in d.items.all()],
            }
            for d in subscriber.deliveries.select_related("edition")
            .prefetch_related("items__paper")
            .order_by("created_at")
        ],
        "link_emails": [
            {
                "kind": row.kind,
                "state": row.state,
                "created_at": when(row.created_at),
                "sent_at": when(row.sent_at),
                "attempts": row.attempts,
                "last_error": row.last_error,
            }
            for row in subscriber.link_emails.order_by("created_at", "id")
        ],
        "events": [
            {"kind": event.kind, "at": when(event.at), "ip": event.ip, "detail": event.detail}
            for event in subscriber.events.order_by("at", "id")
        ],
    }


def link_email_unwanted(row: LinkEmail) -> str:
    """Return why an owed link email should no longer go out, or "" (age is the sweep's to judge).

    A suppressed address is checked here, when the email would go, not when it was asked for:
    whoever signs it up sees the same page after the same work.
    """
    if row.kind == LinkEmail.Kind.CONFIRMATION:
        if row.consent is None or row.consent.confirmed_at:
            return "already confirmed"
        if row.consent.superseded():
            return "a newer sign-up was confirmed"
    if address_blocked(email=row.subscriber.email):
        return "the address is suppressed"
    return ""
