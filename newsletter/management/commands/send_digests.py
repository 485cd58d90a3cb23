"""send_digests: run the digest dispatch for whatever is due now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from newsletter import dispatch, sending, tasks


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
        result = dispatch.digests_dispatch(everyone=now, enqueue=None if sync else tasks.send_chunk.delay)
        self.stdout.write(
            f"{result.due} due, {result.created} deliveries created, {result.recovered} recovered, "
            f"{result.enqueued} queued in {len(result.chunks)} chunks"
        )
        if not sync:
            return
        totals = sending.ChunkResult()
        for chunk in result.chunks:
            try:
                outcome = sending.chunk_send(delivery_ids=chunk)
            except sending.TransientSendError as error:
                self.stderr.write(f"provider unavailable, chunk left pending for a retry: {error}")
                continue
            for name in ("sent", "failed", "skipped", "suppressed"):
                setattr(totals, name, getattr(totals, name) + getattr(outcome, name))
        self.stdout.write(
            f"{totals.sent} sent, {totals.skipped} skipped (nothing new), "
            f"{totals.suppressed} suppressed, {totals.failed} failed"
        )
