"""The Celery app: one per process, configured from Django settings (CELERY_*).

Every task in papermail is safe to run twice, so messages are acknowledged
only after the task finishes and re-queued when a worker dies mid-task.
Workers and beat log through settings.LOGGING, as the web does.
"""

from __future__ import annotations

import logging
import os
import signal

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init
from django.conf import settings
from django.utils.log import configure_logging

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
        "newsletter.tasks.send_owed_link_emails": {"queue": "send"},
    },
)
app.autodiscover_tasks()


# Tasks beat runs every few seconds: Celery's routine lines about them are logged at DEBUG.
FREQUENT_TASKS = frozenset({"newsletter.tasks.send_owed_link_emails"})


class FrequentTasksAtDebug(logging.Filter):
    """Turn Celery's INFO records about a frequent task (received, succeeded, sent by beat) into DEBUG.

    A handler's filter: the record is kept only when its logger is enabled for DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("celery."):
            return True
        if isinstance(record.args, dict):  # the worker: "Task %(name)s[%(id)s] received", "... succeeded"
            task = record.args.get("name")
        elif isinstance(record.args, tuple) and len(record.args) == 2:  # beat: "Sending due task %s (%s)"
            task = record.args[1]
        else:
            return True
        if task not in FREQUENT_TASKS:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


@setup_logging.connect
def use_django_logging(loglevel: int | None = None, **kwargs: object) -> None:
    """Log as settings.LOGGING says, instead of Celery replacing the root logger's handler.

    Celery's own handler, beside Django's, printed records twice and ignored
    LOG_FORMAT. The level given to ``--loglevel`` still applies.
    """
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@worker_process_init.connect
def leave_shutdown_to_the_main_process(**kwargs: object) -> None:
    """In each pool process: ignore SIGTERM, as Celery already ignores SIGINT there.

    honcho (and systemd's default KillMode) send SIGTERM to the worker's whole
    process group. Pool processes killed by it were logged as errors and cut
    their tasks short; ignoring it lets the main process finish the running
    tasks and stop the pool (a warm shutdown). Hard time limits still kill.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


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
