"""Fit a new embedding version on the catalogue now (beat also does it on a schedule)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from papers import vectors
from papers.embedding import EmbeddingError


class Command(BaseCommand):
    help = (
        "Fit the paper embedder on the catalogue, embed every paper with it and make it the active version."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--embedder", help="Dotted path of the embedder class (default: PAPER_EMBEDDER).")

    def handle(self, *args: object, **options: object) -> None:
        try:
            model = vectors.embedding_refit(embedder_path=options.get("embedder") or None)  # type: ignore[arg-type]
        except EmbeddingError as error:
            raise CommandError(f"cannot fit the embedder: {error}") from error
        self.stdout.write(f"active: {model}")
