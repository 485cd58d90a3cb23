"""The Celery app: one per process, configured from Django settings (CELERY_*).

Every task in papermail is safe to run twice, so messages are acknowledged
only after the task finishes and re-queued when a worker dies mid-task.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")

app = Celery("papermail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    task_default_queue="default",
    # Separate queues let operators give ingest, dispatch and send their own workers.
    task_routes={
        "papers.tasks.*": {"queue": "ingest"},
        "newsletter.tasks.dispatch_digests": {"queue": "dispatch"},
        "newsletter.tasks.send_chunk": {"queue": "send"},
        "subscribers.tasks.*": {"queue": "send"},
    },
)
app.autodiscover_tasks()


@worker_init.connect
def tune_collector(**kwargs: object) -> None:
    """Before a worker starts its pool (whose processes inherit it): see newsletter/collector.py."""
    from newsletter import collector

    collector.tune()


def check_time_limits() -> None:
    """Refuse to start when a task could outlive the broker's visibility timeout."""
    visibility = (app.conf.broker_transport_options or {}).get("visibility_timeout")
    if visibility is not None and app.conf.task_time_limit >= visibility:
        raise RuntimeError(
            f"task_time_limit ({app.conf.task_time_limit}s) must stay below the broker "
            f"visibility_timeout ({visibility}s), or a running task is handed out twice."
        )


check_time_limits()
