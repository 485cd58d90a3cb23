"""The sign-up form, and the preference fields it shares with the preference centre.

Forms validate and normalise, nothing more. The preference centre's own forms
are in ``manage_forms``; the fields naming papers a reader likes, in ``seed_forms``.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.core.validators import EmailValidator

from papers import search, taxonomy
from subscribers import searches
from subscribers.addresses import AddressError, checked_email
from subscribers.models import Subscriber
from subscribers.preferences import (
    CONTROL_RE,
    PreferenceError,
    Preferences,
    SignupExtras,
    parse_authors,
    parse_keywords,
)
from subscribers.seed_forms import SeedFields
from subscribers.selectors import topic_choices

TIMEZONES = frozenset(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
# The long lists are given as callables: Django deep-copies a list of choices into every form it
# makes, and a callable only by reference. Nothing is computed per call.
TIMEZONE_CHOICES = [(zone, zone.replace("_", " ")) for zone in sorted(TIMEZONES)]
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
        choices=lambda: CATEGORY_CHOICES,
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
    # A zone is checked against the zones known (a set) rather than by walking the list of choices.
    timezone = forms.CharField(
        initial="UTC", strip=False, label="Time zone", widget=forms.Select(choices=lambda: TIMEZONE_CHOICES)
    )
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

    def clean_timezone(self) -> str:
        zone = self.cleaned_data["timezone"]
        if zone not in TIMEZONES:
            raise forms.ValidationError(
                forms.ChoiceField.default_error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": zone},
            )
        return zone

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


class ResendForm(forms.Form):
    """Ask for a new confirmation link by address (when the old link cannot tell us who)."""

    email = forms.EmailField(max_length=254, label="Email address")
