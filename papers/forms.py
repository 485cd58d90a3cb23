"""Admin form fields for lists of short texts (categories, keywords, names) typed as plain text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst

from papers.names import collapse_whitespace

# An arXiv category: an archive (cs, astro-ph, hep-th) and, for most, a subject class after a dot
# (cs.CL, math.AP) or, in physics, a hyphenated one (cond-mat.mes-hall, physics.comp-ph).
CATEGORY_RE = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]+(?:-[a-z]+)*))?", re.IGNORECASE
)
# Archives whose papers always carry a subject class: the archive alone matches nothing.
ARCHIVES_WITH_SUBJECTS = frozenset(
    {"cs", "math", "stat", "physics", "q-bio", "q-fin", "eess", "econ", "nlin"}
)


class TextListField(forms.CharField):
    """A list of short texts, typed separated by commas or new lines (or one per line).

    Items are trimmed, inner whitespace collapsed, empty ones dropped and repeats (ignoring
    case) kept once, in the order typed.
    """

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(
        self,
        *,
        one_per_line: bool = False,
        max_items: int | None = None,
        max_item_length: int = 200,
        **kwargs: Any,
    ) -> None:
        self.one_per_line = one_per_line
        self.max_items = max_items
        self.max_item_length = max_item_length
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "One per line." if one_per_line else "Separate with commas or new lines."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ("\n" if self.one_per_line else ", ").join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            value = self.prepare_value(value)
        text = super().to_python(value)
        items: list[str] = []
        seen: set[str] = set()
        for part in re.split(r"[\r\n]+" if self.one_per_line else r"[,\r\n]+", text):
            item = collapse_whitespace(part)
            if not item:
                continue
            if len(item) > self.max_item_length:
                raise ValidationError(
                    f"“{item[:20]}…” is too long: keep each under {self.max_item_length} characters."
                )
            item = self.clean_item(item)
            if item.casefold() not in seen:
                seen.add(item.casefold())
                items.append(item)
        if self.max_items is not None and len(items) > self.max_items:
            raise ValidationError(f"Up to {self.max_items}, please.")
        return items

    def clean_item(self, item: str) -> str:
        """Return ``item`` as stored, or raise ValidationError."""
        return item


class CategoryListField(TextListField):
    """arXiv categories, typed like ``cs.CV, cs.CL``; each is checked and written as arXiv writes it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_item_length", 40)
        kwargs.setdefault("max_items", 100)
        kwargs.setdefault(
            "help_text", "arXiv categories, separated by commas or new lines, e.g. cs.CV, cs.CL."
        )
        super().__init__(**kwargs)

    def clean_item(self, item: str) -> str:
        return arxiv_category(item)


def arxiv_category(text: str) -> str:
    """Return ``text`` as an arXiv category is written (``cs.cl`` gives ``cs.CL``); raise ValidationError."""
    match = CATEGORY_RE.fullmatch(text)
    archive = match["archive"].lower() if match else ""
    if not match or (archive in ARCHIVES_WITH_SUBJECTS and not match["subject"]):
        raise ValidationError(
            f"“{text[:40]}” is not an arXiv category: write an archive and subject class, "
            "like cs.CL, math.AP or astro-ph.GA, separated by commas."
        )
    subject = match["subject"]
    if not subject:
        return archive
    # Two-letter subject classes are capitals (cs.CL); longer ones, in physics, are lower case.
    return f"{archive}.{subject.upper() if len(subject) == 2 else subject.lower()}"


class TextListsMixin:
    """For a ModelAdmin: edit the JSON list fields named in ``text_lists`` with the form fields given."""

    text_lists: dict[str, Callable[[], TextListField]] = {}

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        make = self.text_lists.get(db_field.name)
        if make is None:
            return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        field = make()
        field.label = field.label or capfirst(db_field.verbose_name)
        return field
