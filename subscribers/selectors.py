"""Reads for signing up and for mail about a subscription.

Who a link's token names, whether an address may be mailed at all, the topics
a form offers, and what a sign-up asks for in words (for its confirmation
email and page). The preference centre's reads are in ``manage_selectors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

from papers.models import Paper, Topic
from papers.references import ReferenceError, arxiv_ids_from_text
from subscribers.models import ConsentRecord, LinkEmail, Subscriber, Suppression
from subscribers.preferences import Preferences, SignupExtras
from subscribers.tokens import Purpose, TokenData, address_tag_matches, email_hash, read_token

TOPIC_CHOICES_KEY = "subscribers:topic-choices"
TOPIC_CHOICES_SECONDS = 300  # a bound if a topic is changed without its signals (e.g. by a bulk update)


def topic_choices() -> list[tuple[str, str]]:
    """Return (slug, name) of each topic offered on the forms, in their order.

    Kept in Django's cache, shared by every process, so a sign-up does not read
    the topic table; saving or deleting a topic deletes the entry at once. With
    the cache unreachable they are read from the table: sign-ups go on.
    """
    try:
        return cache.get_or_set(TOPIC_CHOICES_KEY, _topic_rows, TOPIC_CHOICES_SECONDS)
    except (RedisError, OSError):
        return _topic_rows()


def _topic_rows() -> list[tuple[str, str]]:
    return list(Topic.objects.filter(active=True).order_by("position", "name").values_list("slug", "name"))


def forget_topic_choices(**_signal: object) -> None:
    """Delete the cached topic choices (connected to Topic saves and deletes)."""
    cache.delete(TOPIC_CHOICES_KEY)


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
        "topics": [{"slug": slug, "name": name} for slug, name in form.fields["topics"].choices],
        "seed_paper": paper,
        "seed_id": seed,
        "search_query": form["search_query"].value() or "",
        "search_category": form["search_category"].value() or "",
    }


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


def rating_of(*, subscriber: Subscriber, paper: Paper) -> int | None:
    """Return the subscriber's rating of ``paper`` (+1 more, -1 less), or None if not rated."""
    return subscriber.feedback.filter(paper=paper).values_list("value", flat=True).first()


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
