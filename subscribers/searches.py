"""Writes for what a reader follows besides preferences: saved searches and papers they start from.

Both come from the public site: "Email me new papers matching this search"
and "Get papers like this by email". A new address asks through the normal
double opt-in (the sign-up's requested preferences carry them, and
confirming applies them); a subscriber adds them in the preference centre.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from papers import search, taxonomy
from papers.feeds import split_arxiv_id
from papers.models import Paper
from subscribers.models import ConsentRecord, Feedback, SavedSearch, Subscriber
from subscribers.preferences import SignupExtras


class SearchRefused(ValueError):
    """A saved search that cannot be kept; the message is shown to the person."""


@dataclass(frozen=True)
class SearchRequest:
    """A search to save: its words as typed and the category it is limited to (or "")."""

    query: str
    category: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"query": self.query, "category": self.category}


def search_request(query: str, category: str = "") -> SearchRequest:
    """Return the search to save, checked: words that search something, a known category or none."""
    query = search.clean_query(query)
    if search.parse_query(query).empty:
        raise SearchRefused("Type a few words to search for.")
    if category and not taxonomy.is_category(category):
        raise SearchRefused("Choose a category from the list, or none.")
    return SearchRequest(query, category)


def seed_arxiv_id(text: str) -> str:
    """Return the version-free arXiv id in ``text`` (an id or an arXiv link), or raise SearchRefused."""
    try:
        arxiv_id, _version = split_arxiv_id(search.clean_query(text))
    except ValueError:
        raise SearchRefused("That is not an arXiv id or link, e.g. 2611.18230.") from None
    return arxiv_id


def saved_search_add(*, subscriber: Subscriber, request: SearchRequest) -> SavedSearch | None:
    """Save a search for the subscriber; return it, or None when it was saved already."""
    filters = {"category": request.category} if request.category else {}
    with transaction.atomic():
        Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        if subscriber.saved_searches.filter(query=request.query, filters=filters).exists():
            return None
        if subscriber.saved_searches.count() >= SavedSearch.MAX_PER_SUBSCRIBER:
            raise SearchRefused(f"Up to {SavedSearch.MAX_PER_SUBSCRIBER} saved searches: remove one first.")
        try:
            with transaction.atomic():
                return SavedSearch.objects.create(subscriber=subscriber, query=request.query, filters=filters)
        except IntegrityError:
            return None


def saved_search_remove(*, subscriber: Subscriber, saved_search_id: int) -> bool:
    """Remove one of the subscriber's saved searches; return whether there was one to remove."""
    return subscriber.saved_searches.filter(pk=saved_search_id).delete()[0] > 0


def paper_seed_add(*, subscriber: Subscriber, arxiv_id: str) -> Paper | None:
    """Record a paper the subscriber likes (a seed: "more like this"); return it, or None if not here."""
    paper = Paper.objects.filter(arxiv_id=arxiv_id, hidden=False).first()
    if paper is None:
        return None
    Feedback.objects.update_or_create(
        subscriber=subscriber, paper=paper, defaults={"value": Feedback.Value.MORE}
    )
    return paper


def signup_extras_apply(*, subscriber: Subscriber, consent: ConsentRecord) -> None:
    """Apply what a confirmed sign-up asked for besides preferences: its seeds and saved searches."""
    extras = SignupExtras.requested(consent)
    for arxiv_id in extras.seed_arxiv_ids:
        paper_seed_add(subscriber=subscriber, arxiv_id=arxiv_id)
    for wanted in extras.saved_searches:
        try:
            saved_search_add(
                subscriber=subscriber, request=search_request(wanted["query"], wanted["category"])
            )
        except SearchRefused:
            continue  # checked when it was asked for; a later limit only drops the extra
