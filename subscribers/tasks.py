"""Celery tasks that send subscription emails; thin: each calls one service."""

from __future__ import annotations

from celery import shared_task

from subscribers import services


@shared_task(name="subscribers.tasks.send_owed_link_emails")
def send_owed_link_emails() -> int:
    """Beat's sweep, every two seconds: send the confirmation and preference-centre emails owed."""
    return services.link_emails_sweep()
