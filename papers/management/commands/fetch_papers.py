"""fetch_papers: fetch every enabled feed, one feed, or ingest saved documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers import selectors, services
from papers.feeds.entries import FORMATS
from papers.models import Feed, FetchRun


def _day_range(text: str) -> list[dt.date]:
    """Parse ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD`` into the days it names."""
    try:
        first, _, last = text.partition("..")
        start = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last) if last else start
    except ValueError:
        raise CommandError(f"--date takes YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, not {text!r}") from None
    if end < start:
        raise CommandError("--date range ends before it starts")
    if (end - start).days > 366:
        raise CommandError("--date range is longer than a year; split the backfill")
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _read_capped(path: Path) -> bytes:
    """Return the bytes of ``path``, refusing one over FEED_MAX_BYTES without reading past the cap."""
    limit = settings.FEED_MAX_BYTES
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > limit:
        raise CommandError(
            f"{path} is too large: more than {limit:,} bytes (FEED_MAX_BYTES); nothing was ingested from it"
        )
    return data


class Command(BaseCommand):
    help = (
        "Fetch papers from every enabled feed (or --feed SLUG), or ingest saved documents "
        "with --file. Prints one line per feed: new, updated, unchanged, skipped, errors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", action="append", metavar="SLUG", help="Only this feed (repeatable).")
        parser.add_argument(
            "--file",
            action="append",
            type=Path,
            metavar="PATH",
            help="Ingest a saved document of at most FEED_MAX_BYTES (repeatable).",
        )
        parser.add_argument("--format", choices=FORMATS, help="Format of --file (detected if omitted).")
        parser.add_argument(
            "--date",
            metavar="DAY[..DAY]",
            help="Hugging Face JSON feeds only: fetch that day's list (or each day of a range).",
        )

    def handle(self, *args: object, **options: object) -> None:
        files: list[Path] = options["file"] or []  # type: ignore[assignment]
        if files and (options["feed"] or options["date"]):
            raise CommandError("--file cannot be combined with --feed or --date")
        if options["format"] and not files:
            raise CommandError("--format only applies to --file")
        runs = self._ingest_files(files, options["format"]) if files else self._fetch_feeds(options)  # type: ignore[arg-type]
        failed = [run for run in runs if run.status == FetchRun.Status.ERROR]
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} fetches failed (see above)")

    def _ingest_files(self, paths: list[Path], fmt: str | None) -> list[FetchRun]:
        runs = []
        for index, path in enumerate(paths, start=1):
            data = _read_capped(path)
            run = services.document_ingest(data=data, source=f"file:{path}", fmt=fmt)
            self._report(run, label=str(path), progress=(index, len(paths)))
            runs.append(run)
        return runs

    def _fetch_feeds(self, options: dict[str, object]) -> list[FetchRun]:
        slugs: list[str] = options["feed"] or []  # type: ignore[assignment]
        if slugs:
            found = {feed.slug: feed for feed in Feed.objects.filter(slug__in=slugs)}
            unknown = [slug for slug in slugs if slug not in found]
            if unknown:
                known = ", ".join(Feed.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"unknown feed {', '.join(unknown)} (known: {known})")
            targets = [found[slug] for slug in slugs]
        else:
            targets = list(selectors.feeds_enabled())
            if not targets:
                self.stdout.write("No enabled feeds. Add one in the admin under Papers > Feeds.")
                return []
        days: list[dt.date | None] = [None]
        if options["date"]:
            days = list(_day_range(str(options["date"])))
            wrong = [feed.slug for feed in targets if feed.kind != Feed.Kind.HF_JSON]
            if wrong and slugs:
                raise CommandError(f"--date only applies to Hugging Face JSON feeds, not {', '.join(wrong)}")
            targets = [feed for feed in targets if feed.kind == Feed.Kind.HF_JSON]
        jobs = [(feed, day) for feed in targets for day in days]
        runs = []
        for index, (feed, day) in enumerate(jobs, start=1):
            run = services.feed_fetch(feed=feed, day=day)
            label = f"{feed.slug} {day.isoformat()}" if day else feed.slug
            self._report(run, label=label, progress=(index, len(jobs)))
            runs.append(run)
        return runs

    def _report(self, run: FetchRun, *, label: str, progress: tuple[int, int]) -> None:
        index, total = progress
        prefix = f"[{index}/{total}] " if total > 1 else ""
        errors = 1 if run.status == FetchRun.Status.ERROR else 0
        line = (
            f"{prefix}{label}: {run.new} new, {run.updated} updated, {run.unchanged} unchanged, "
            f"{run.skipped} skipped, {errors} errors"
        )
        if run.status == FetchRun.Status.NOT_MODIFIED:
            line += " (not modified since last fetch)"
        if run.status == FetchRun.Status.ERROR:
            self.stdout.write(self.style.ERROR(f"{line}: {run.error}"))
        else:
            self.stdout.write(line)
