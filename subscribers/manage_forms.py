"""The preference centre's forms: preferences, papers liked (typed, from a file or by author), searches."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from papers import search
from papers.references import ReferenceError, arxiv_ids_from_text
from subscribers import searches
from subscribers.forms import CATEGORY_CHOICES, NoLineBreaksMixin, PreferencesForm
from subscribers.models import Subscriber
from subscribers.preferences import Preferences, keywords_text
from subscribers.seed_forms import SeedFields

SEARCH_CATEGORY_CHOICES = [("", "Any category"), *CATEGORY_CHOICES]


class ManagePreferencesForm(PreferencesForm):
    """The preference centre: the shared fields."""

    @classmethod
    def for_subscriber(
        cls, subscriber: Subscriber, data: dict[str, object] | None = None
    ) -> ManagePreferencesForm:
        preferences = Preferences.of(subscriber)
        initial = {
            "topics": preferences.topics,
            "keywords": keywords_text(preferences.keywords, preferences.excluded_keywords),
            "authors": ", ".join(preferences.authors),
            "cadence": preferences.cadence,
            "timezone": preferences.timezone,
            "send_hour": preferences.send_hour,
            "send_weekday": preferences.send_weekday,
            "max_papers": preferences.max_papers,
            "categories": preferences.categories,
            "include_crosslists": preferences.include_crosslists,
        }
        return cls(data=data, initial=initial)


class SeedsForm(SeedFields):
    """The preference centre's "Papers you like": ids, a file, or the papers chosen from an author's."""

    # The papers ticked among those an author search offered.
    arxiv_id = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean_arxiv_id(self) -> list[str]:
        chosen = [str(value)[:100] for value in self.cleaned_data.get("arxiv_id") or []]
        try:
            ids, unknown = arxiv_ids_from_text(" ".join(chosen), limit=settings.SEED_AUTHOR_MAX_PAPERS)
        except ReferenceError as error:
            raise forms.ValidationError(str(error)) from None
        if unknown:
            raise forms.ValidationError("Choose papers from the list.")
        return ids

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("arxiv_id") or self.names_seeds):
            raise forms.ValidationError("Give an arXiv id or link, or choose a file.", code="empty")
        return cleaned


class AuthorSeedForm(NoLineBreaksMixin, forms.Form):
    """Seed from a reader's own papers: their name as it appears on arXiv."""

    single_line_fields = ("name",)

    name = forms.CharField(max_length=100, label="Your name as on arXiv")

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 3 or not any(ch.isalpha() for ch in name):
            raise forms.ValidationError("Give your name as it appears on your papers.")
        return name


class SavedSearchForm(NoLineBreaksMixin, forms.Form):
    """The preference centre's "follow a search": words and, optionally, a category."""

    single_line_fields = ("query",)

    query = forms.CharField(max_length=search.MAX_QUERY_LENGTH, label="Search for")
    category = forms.ChoiceField(choices=lambda: SEARCH_CATEGORY_CHOICES, required=False, label="In category")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if "query" in cleaned:
            try:
                cleaned["request"] = searches.search_request(cleaned["query"], cleaned.get("category") or "")
            except searches.SearchRefused as error:
                self.add_error("query", str(error))
        return cleaned
