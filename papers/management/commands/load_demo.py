"""load_demo: fill an empty catalogue from the sample feeds in papers/demo/."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from papers import services
from papers.models import Paper

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Ingest the sample feeds in papers/demo/ when the catalogue has no papers (or with --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Ingest even if papers exist.")

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if Paper.objects.exists() and not force:
            self.stdout.write("Papers already present; demo data not loaded.")
            return
        for path in sorted(DEMO_DIR.glob("*.*")):
            run = services.document_ingest(data=path.read_bytes(), source=f"demo:{path.name}")
            self.stdout.write(f"{path.name}: {run.new} new, {run.updated} updated ({run.status})")
