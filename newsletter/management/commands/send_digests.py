"""send_digests: run the digest dispatch for whatever is due now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from newsletter import services


class Command(BaseCommand):
    help = (
        "Create and send the digests due now (what beat runs every 15 minutes). --now treats every "
        "active subscriber as due today; --sync sends in this process instead of through Celery workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="Every active subscriber is due (today's edition)."
        )
        parser.add_argument("--sync", action="store_true", help="Send here, without a worker.")

    def handle(self, *args: object, now: bool = False, sync: bool = False, **options: object) -> None:
        result = services.digests_dispatch(everyone=now, enqueue=not sync)
        self.stdout.write(
            f"{result.due} due, {result.created} deliveries created, {result.recovered} recovered, "
            f"{result.enqueued} queued in {len(result.chunks)} chunks"
        )
        if not sync:
            return
        totals = services.ChunkResult()
        for chunk in result.chunks:
            try:
                outcome = services.chunk_send(delivery_ids=chunk)
            except services.TransientSendError as error:
                self.stderr.write(f"provider unavailable, chunk left pending for a retry: {error}")
                continue
            for name in ("sent", "failed", "skipped", "suppressed"):
                setattr(totals, name, getattr(totals, name) + getattr(outcome, name))
        self.stdout.write(
            f"{totals.sent} sent, {totals.skipped} skipped (nothing new), "
            f"{totals.suppressed} suppressed, {totals.failed} failed"
        )
