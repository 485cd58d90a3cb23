"""Profiles: each subscriber's preferences as the ranker sees them (topics, searches, feedback).

A chunk's profiles are read in a fixed number of queries
(:func:`chunk_profiles`); :func:`profile_of` makes one from a subscriber
alone, for a single digest or a preview.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings

from newsletter import candidates
from newsletter.models import Delivery
from papers.models import Topic
from papers.names import name_key
from papers.search import ParsedQuery, parse_query
from subscribers.models import Feedback, SavedSearch, Subscriber


def topic_rule(topic: Topic) -> candidates.TopicRule:
    """Return a topic as the ranker sees it."""
    return candidates.TopicRule(
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
    topics: Iterable[candidates.TopicRule] | None = None,
    searches: Iterable[candidates.SearchRule] | None = None,
) -> candidates.Profile:
    """Return the ranking profile of a subscriber.

    ``feedback`` is (value, categories, authors) of the papers it rated;
    ``topics`` its topics' rules and ``searches`` its saved searches (read
    from the subscriber when not given).
    """
    categories: dict[str, float] = defaultdict(float)
    authors: dict[str, float] = defaultdict(float)
    for value, paper_categories, paper_authors in feedback:
        for category in paper_categories or []:
            categories[category] += value
        for author in paper_authors or []:
            authors[name_key(author)] += value
    rules = topics if topics is not None else map(topic_rule, subscriber.topics.all())
    if searches is None:
        searches = (candidates.SearchRule(s.query, s.category) for s in subscriber.saved_searches.all())
    followed = tuple(sorted({c for c in subscriber.categories or () if isinstance(c, str)}))
    return candidates.Profile(
        topics=tuple(sorted(rules, key=lambda rule: rule.id)),
        keywords=tuple(subscriber.keywords),
        excluded=tuple(subscriber.excluded_keywords),
        authors=tuple(subscriber.authors),
        searches=tuple(sorted(set(searches), key=lambda rule: (rule.query, rule.category))),
        categories=followed,
        include_crosslists=bool(subscriber.include_crosslists and followed),
        max_papers=subscriber.max_papers,
        feedback_categories=tuple(sorted((k, v) for k, v in categories.items() if v)),
        feedback_authors=tuple(sorted((k, v) for k, v in authors.items() if v)),
    )


def chunk_profiles(deliveries: list[Delivery], *, feedback: bool) -> dict[int, candidates.Profile]:
    """Return each subscriber's ranking profile: its topics, saved searches and (``feedback``) feedback.

    Three queries, four with feedback: a learned model replaces the feedback's fixed weights.
    """
    subscriber_ids = [d.subscriber_id for d in deliveries]
    rated = _feedback(subscriber_ids) if feedback else {}
    rules = {topic.pk: topic_rule(topic) for topic in Topic.objects.all()}  # a handful, shared
    chosen: dict[int, list[candidates.TopicRule]] = defaultdict(list)
    links = Subscriber.topics.through.objects.filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, topic_id in links.values_list("subscriber_id", "topic_id"):
        chosen[subscriber_id].append(rules[topic_id])
    searches = _saved_searches(subscriber_ids)
    return {
        d.subscriber_id: profile_of(
            d.subscriber,
            rated.get(d.subscriber_id, ()),
            topics=chosen.get(d.subscriber_id, []),
            searches=searches.get(d.subscriber_id, []),
        )
        for d in deliveries
    }


def _saved_searches(subscriber_ids: list[int]) -> dict[int, list[candidates.SearchRule]]:
    """Return each subscriber's saved searches as the ranker sees them (one query).

    Readers share popular searches: each distinct query is parsed once.
    """
    parsed: dict[str, ParsedQuery] = {}
    searches: dict[int, list[candidates.SearchRule]] = defaultdict(list)
    rows = SavedSearch.objects.filter(subscriber_id__in=subscriber_ids).values_list(
        "subscriber_id", "query", "filters"
    )
    for subscriber_id, query, filters in rows:
        category = str(filters.get("category") or "") if isinstance(filters, dict) else ""
        if query not in parsed:
            parsed[query] = parse_query(query)
        searches[subscriber_id].append(candidates.SearchRule(query, category, parsed[query]))
    return searches


def _feedback(subscriber_ids: list[int]) -> dict[int, list[tuple[int, list[str], list[str]]]]:
    """Return each subscriber's latest feedback as (value, categories, authors) of the rated papers."""
    limit = settings.DIGEST_FEEDBACK_LIMIT
    feedback: dict[int, list[tuple[int, list[str], list[str]]]] = defaultdict(list)
    rows = (
        Feedback.objects.filter(subscriber_id__in=subscriber_ids)
        .order_by("-created_at")
        .values_list("subscriber_id", "value", "paper__categories", "paper__author_names")
    )
    for subscriber_id, value, categories, authors in rows[: limit * max(1, len(subscriber_ids))]:
        if len(feedback[subscriber_id]) < limit:
            feedback[subscriber_id].append((value, categories, authors))
    return feedback
