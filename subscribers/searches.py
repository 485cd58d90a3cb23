"""Writes for the searches a reader follows besides their preferences.

They come from the public site's "Email me new papers matching this search".
A new address asks through the normal double opt-in (the sign-up's requested
preferences carry them, and confirming applies them); a subscriber adds them in
the preference centre. Papers a reader likes ("Get papers like this") are
seeds: ``subscribers.seeds`` and ``services.feedback_seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from papers import search, taxonomy
from subscribers.models import SavedSearch, Subscriber


class SearchRefused(ValueError):
    """A saved search that cannot be kept; the message is shown to the person."""


@dataclass(frozen=True)
class SearchRequest:
    """A search to save: its words as typed and the category it is limited to (or "")."""

    query: str
    category: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"query": self.query, "category": self.category}

    @property
    def filters(self) -> dict[str, str]:
        """The saved search's filters as stored: its category, if it has one."""
        return {"category": self.category} if self.category else {}


def search_request(query: str, category: str = "") -> SearchRequest:
    """Return the search to save, checked: words that search something, a known category or none."""
    query = search.clean_query(query)
    if search.parse_query(query).empty:
        raise SearchRefused("Type a few words to search for.")
    if category and not taxonomy.is_category(category):
        raise SearchRefused("Choose a category from the list, or none.")
    return SearchRequest(query, category)


def _matching(subscriber: Subscriber, request: SearchRequest) -> QuerySet[SavedSearch]:
    return subscriber.saved_searches.filter(query=request.query, filters=request.filters)


def saved_search_add(*, subscriber: Subscriber, request: SearchRequest) -> SavedSearch | None:
    """Save a search for the subscriber; return it, or None when it was saved already."""
    with transaction.atomic():
        Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        if _matching(subscriber, request).exists():
            return None
        if subscriber.saved_searches.count() >= SavedSearch.MAX_PER_SUBSCRIBER:
            raise SearchRefused(f"Up to {SavedSearch.MAX_PER_SUBSCRIBER} saved searches: remove one first.")
        try:
            with transaction.atomic():
                return SavedSearch.objects.create(
                    subscriber=subscriber, query=request.query, filters=request.filters
                )
        except IntegrityError:
            return None


def saved_search_remove(*, subscriber: Subscriber, saved_search_id: int) -> bool:
    """Remove one of the subscriber's saved searches; return whether there was one to remove."""
    return subscriber.saved_searches.filter(pk=saved_search_id).delete()[0] > 0


def saved_search_exists(*, subscriber: Subscriber, request: SearchRequest) -> bool:
    """Return whether the subscriber follows this search already."""
    return _matching(subscriber, request).exists()


def saved_search_remove_matching(*, subscriber: Subscriber, request: SearchRequest) -> bool:
    """Stop following this search (the site's undo); return whether it was followed."""
    return _matching(subscriber, request).delete()[0] > 0


def saved_searches_apply(*, subscriber: Subscriber, wanted: list[dict[str, str]]) -> None:
    """Save the searches a confirmed sign-up asked to follow."""
    for search_wanted in wanted:
        try:
            saved_search_add(
                subscriber=subscriber,
                request=search_request(search_wanted["query"], search_wanted["category"]),
            )
        except SearchRefused:
            continue  # checked when it was asked for; a later limit only drops the extra
