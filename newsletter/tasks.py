"""Celery tasks for the mail papermail sends: thin wrappers around one service each, all safe to run twice."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from newsletter import dispatch, link_emails, sending


@shared_task(name="newsletter.tasks.dispatch_digests")
def dispatch_digests() -> dict[str, int]:
    """Beat, every 15 minutes: create due deliveries, recover lost ones, queue them in chunks."""
    result = dispatch.digests_dispatch(enqueue=send_chunk.delay)
    return {"due": result.due, "recovered": result.recovered, "enqueued": result.enqueued}


@shared_task(bind=True, name="newsletter.tasks.send_chunk", max_retries=6)
def send_chunk(self, delivery_ids: list[int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Send a chunk of deliveries; a redelivered or repeated task finds its rows claimed or done."""
    try:
        result = sending.chunk_send(delivery_ids=delivery_ids)
    except sending.TransientSendError as error:
        base = settings.DIGEST_RETRY_BACKOFF * (2**self.request.retries)
        raise self.retry(exc=error, countdown=min(base + random.uniform(0, base), 600)) from error
    return {
        "claimed": result.claimed,
        "sent": result.sent,
        "failed": result.failed,
        "skipped": result.skipped,
    }


@shared_task(name="newsletter.tasks.send_owed_link_emails")
def send_owed_link_emails() -> int:
    """Beat's sweep, every two seconds: send the confirmation and preference-centre emails owed."""
    return link_emails.link_emails_sweep()
