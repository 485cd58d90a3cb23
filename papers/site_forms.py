"""The site's search form: words, a category and a date range, each checked before any query runs."""

from __future__ import annotations

from django import forms

from papers import search, taxonomy
from papers.selectors import SearchFilters


def category_choices() -> list[tuple[str, object]]:
    return [("", "Any category"), *taxonomy.grouped_choices()]


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=search.MAX_QUERY_LENGTH,
        label="Search papers",
        widget=forms.SearchInput(attrs={"placeholder": 'e.g. "state space model" reasoning -robotics'}),
        error_messages={"max_length": "Keep a search under %(limit_value)d characters."},
    )
    category = forms.ChoiceField(required=False, choices=category_choices, label="Category")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_q(self) -> str:
        return search.clean_query(self.cleaned_data["q"])

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The end of the range comes before its start.")
        return cleaned

    def filters(self) -> SearchFilters:
        """Return the filters chosen (call after is_valid())."""
        data = self.cleaned_data
        return SearchFilters(data["category"], data["date_from"], data["date_to"])
