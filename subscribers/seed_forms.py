"""The fields that name papers a reader likes, shared by the sign-up form and the preference centre."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings

from papers.references import ReferenceError, arxiv_ids_from_text, references_from_file


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
