"""Forms for signing up and for the preference centre; they validate and normalise, nothing more."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import EmailValidator

from papers import search, taxonomy
from papers.references import ReferenceError, arxiv_ids_from_text, references_from_file
from subscribers import searches
from subscribers.addresses import AddressError, checked_email
from subscribers.models import Subscriber
from subscribers.preferences import (
    CONTROL_RE,
    PreferenceError,
    Preferences,
    SignupExtras,
    keywords_text,
    parse_authors,
    parse_keywords,
)
from subscribers.selectors import topic_choices

TIMEZONE_CHOICES = [
    (zone, zone.replace("_", " "))
    for zone in sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
]
HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]
CATEGORY_CHOICES = [choice for _group, choices in taxonomy.grouped_choices() for choice in choices]
CROSSLIST_CHOICES = [
    (True, "Include papers cross-listed into them"),
    (False, "Only papers whose primary category it is"),
]
MAX_PAPERS_CHOICES = [(n, f"{n} papers") for n in (5, 10, 15, 20)]


class DistinctMultipleChoiceField(forms.MultipleChoiceField):
    """A multiple choice in which a choice sent twice is chosen once."""

    def to_python(self, value: Any) -> list[str]:
        """Return each choice once, in the order first given."""
        return list(dict.fromkeys(super().to_python(value)))


class NoLineBreaksMixin:
    """Refuse CR, LF and other control characters in any single-line field, before any stripping."""

    single_line_fields: tuple[str, ...] = ()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()  # type: ignore[misc]
        for name in self.single_line_fields:
            raw = self.data.get(self.add_prefix(name), "")  # type: ignore[attr-defined]
            if isinstance(raw, str) and CONTROL_RE.search(raw):
                self.add_error(name, "Line breaks and control characters are not allowed here.")  # type: ignore[attr-defined]
        return cleaned


class PreferencesForm(NoLineBreaksMixin, forms.Form):
    """What to receive and when: the fields shared by sign-up and the preference centre."""

    single_line_fields = ("keywords", "authors", "timezone")

    topics = DistinctMultipleChoiceField(
        choices=(),  # the topics offered now, read when the form is made
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Topics",
    )
    keywords = forms.CharField(
        required=False,
        max_length=600,
        label="Keywords",
        help_text=(
            "Comma-separated. Put - before a word to exclude it, "
            'e.g. reasoning, "state space model", -robotics.'
        ),
    )
    authors = forms.CharField(
        required=False,
        max_length=1000,
        label="Authors to follow",
        help_text="Comma-separated names, e.g. Yann LeCun, Fei-Fei Li.",
    )
    cadence = forms.ChoiceField(
        choices=Subscriber.Cadence.choices,
        initial=Subscriber.Cadence.DAILY,
        widget=forms.RadioSelect,
        label="How often",
    )
    categories = DistinctMultipleChoiceField(
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="arXiv categories",
        help_text="Every new paper in a category you tick, whatever its words.",
    )
    include_crosslists = forms.TypedChoiceField(
        choices=CROSSLIST_CHOICES,
        coerce=lambda value: value in (True, "True"),
        required=False,
        empty_value=True,
        initial=True,
        widget=forms.RadioSelect,
        label="Cross-listed papers",
    )
    max_papers = forms.TypedChoiceField(
        choices=MAX_PAPERS_CHOICES, coerce=int, initial=10, label="At most", required=False, empty_value=None
    )
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC", label="Time zone")
    send_hour = forms.TypedChoiceField(choices=HOUR_CHOICES, coerce=int, initial=7, label="Deliver at")
    send_weekday = forms.TypedChoiceField(
        choices=Subscriber.Weekday.choices,
        coerce=int,
        required=False,
        empty_value=Subscriber.Weekday.MONDAY,
        initial=Subscriber.Weekday.MONDAY,
        label="On",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["topics"].choices = topic_choices()
        if self.is_bound or "timezone" in self.initial:
            # The person (or their saved preferences) chose a zone: the browser must not replace it.
            self.fields["timezone"].widget.attrs["data-chosen"] = "1"

    @property
    def weekly(self) -> bool:
        """Whether the cadence submitted, or else the one shown, is weekly: only then is the day shown."""
        return self["cadence"].value() == Subscriber.Cadence.WEEKLY

    def clean_keywords(self) -> tuple[list[str], list[str]]:
        try:
            return parse_keywords(self.cleaned_data["keywords"])
        except PreferenceError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_authors(self) -> list[str]:
        try:
            return parse_authors(self.cleaned_data["authors"])
        except PreferenceError as error:
            raise forms.ValidationError(str(error)) from None

    def category_groups(self) -> list[tuple[str, list[forms.boundfield.BoundWidget]]]:
        """Return the category checkboxes grouped by archive, as the taxonomy lists them."""
        boxes = list(self["categories"])
        groups = []
        for group, choices in taxonomy.grouped_choices():
            groups.append((group, boxes[: len(choices)]))
            boxes = boxes[len(choices) :]
        return groups

    def asks_for_something(self, cleaned: dict[str, Any]) -> bool:
        """Return whether the choices name anything to send: a topic, keyword, author or category."""
        included, _excluded = cleaned.get("keywords") or ([], [])
        return bool(cleaned["topics"] or included or cleaned["authors"] or cleaned.get("categories"))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if all(name in cleaned for name in ("topics", "keywords", "authors")) and not self.asks_for_something(
            cleaned
        ):
            raise forms.ValidationError(
                "Choose at least one topic, category, keyword or author, so we know what to send you.",
                code="empty",
            )
        return cleaned

    def preferences(self) -> Preferences:
        """Return the validated preferences (call after is_valid())."""
        data = self.cleaned_data
        included, excluded = data["keywords"]
        return Preferences(
            topics=sorted(data["topics"]),
            keywords=included,
            excluded_keywords=excluded,
            authors=data["authors"],
            cadence=data["cadence"],
            timezone=data["timezone"],
            send_hour=data["send_hour"],
            send_weekday=data["send_weekday"],
            max_papers=data.get("max_papers"),  # None when not sent: what is stored stays
            categories=list(data.get("categories") or []),
            include_crosslists=data.get("include_crosslists", True),
        )


class SeedFields(forms.Form):
    """Papers a reader likes: arXiv ids or links typed in, and a BibTeX, RIS or CSL JSON file.

    Cleaned, they are ``arxiv_ids`` (a list), ``seed_file`` (a (format, references) pair or None).
    A file over SEED_FILE_MAX_BYTES never reaches the form: the view names it in ``refused_files``.
    """

    seed_papers = forms.CharField(
        required=False,
        max_length=8000,
        label="arXiv ids or links",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "2403.15527, https://arxiv.org/abs/1706.03762"}
        ),
        help_text="Separated by spaces, commas or lines.",
    )
    seed_file = forms.FileField(
        required=False,
        label="Or a file from your reference manager",
        help_text="BibTeX (.bib), RIS (.ris) or CSL JSON, e.g. a Zotero export.",
        widget=forms.FileInput(attrs={"accept": ".bib,.bibtex,.ris,.json,.txt"}),
    )

    def __init__(self, *args: Any, refused_files: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused_files = refused_files

    def clean_seed_papers(self) -> list[str]:
        try:
            ids, unknown = arxiv_ids_from_text(
                self.cleaned_data["seed_papers"], limit=settings.SEED_MAX_PAPERS
            )
        except ReferenceError as error:
            raise forms.ValidationError(str(error)) from None
        if unknown:
            listed = ", ".join(f"“{piece}”" for piece in unknown[:5])
            raise forms.ValidationError(f"Not an arXiv id or link: {listed}.")
        return ids

    def clean_seed_file(self) -> tuple[str, list[Any]] | None:
        if "seed_file" in self.refused_files:
            raise forms.ValidationError(_too_large())
        upload = self.cleaned_data.get("seed_file")
        if not upload:
            return None
        if upload.size > settings.SEED_FILE_MAX_BYTES:
            raise forms.ValidationError(_too_large())
        try:
            return references_from_file(upload.read(), max_entries=settings.SEED_FILE_MAX_ENTRIES)
        except ReferenceError as error:
            raise forms.ValidationError(str(error)) from None

    @property
    def names_seeds(self) -> bool:
        """Whether any paper was given (call after is_valid())."""
        return bool(self.cleaned_data.get("seed_papers") or self.cleaned_data.get("seed_file"))


def _too_large() -> str:
    return f"The file is too large: upload at most {settings.SEED_FILE_MAX_BYTES // 1024:,} KB."


class SignupForm(PreferencesForm, SeedFields):
    """The public sign-up form (``/subscribe/`` and the home page)."""

    single_line_fields = ("email", *PreferencesForm.single_line_fields)
    field_order = [
        "email",
        "topics",
        "categories",
        "include_crosslists",
        "keywords",
        "authors",
        "cadence",
        "timezone",
        "send_hour",
        "send_weekday",
        "max_papers",
        "seed_papers",
        "seed_file",
    ]

    email = forms.CharField(
        max_length=254,
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
    )
    # A honeypot: hidden from people by CSS, filled in by naive bots.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        EmailValidator(message="Enter a valid email address, like name@example.org.")(value)
        try:
            return checked_email(value)
        except AddressError as error:
            raise forms.ValidationError(str(error)) from None

    # From the site's "Email me new papers matching this search". Hidden: the page shows it in words.
    # ("Get papers like this" fills in the seed papers.)
    search_query = forms.CharField(
        required=False, max_length=search.MAX_QUERY_LENGTH, widget=forms.HiddenInput
    )
    search_category = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        query = cleaned.get("search_query") or ""
        cleaned["saved_search"] = None
        if query:
            try:
                cleaned["saved_search"] = searches.search_request(query, cleaned.get("search_category") or "")
            except searches.SearchRefused as error:
                self.add_error(None, str(error))
        return cleaned

    def asks_for_something(self, cleaned: dict[str, Any]) -> bool:
        return (
            super().asks_for_something(cleaned)
            or self.names_seeds
            or bool((cleaned.get("search_query") or "").strip())
        )

    def extras(self, *, seed_papers: list[str]) -> SignupExtras:
        """Return the seed papers (as looked up by the view) and the search to follow (after is_valid())."""
        saved = self.cleaned_data.get("saved_search")
        return SignupExtras(seed_papers=seed_papers, saved_searches=[saved.as_dict()] if saved else [])


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
    category = forms.ChoiceField(
        choices=[("", "Any category"), *CATEGORY_CHOICES], required=False, label="In category"
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if "query" in cleaned:
            try:
                cleaned["request"] = searches.search_request(cleaned["query"], cleaned.get("category") or "")
            except searches.SearchRefused as error:
                self.add_error("query", str(error))
        return cleaned


class ResendForm(forms.Form):
    """Ask for a new confirmation link by address (when the old link cannot tell us who)."""

    email = forms.EmailField(max_length=254, label="Email address")
