"""Celery tasks that keep each reader's model up to date; thin: each calls one service."""

from __future__ import annotations

from celery import shared_task

from subscribers import training

STALE_BATCH = 2000


@shared_task(name="subscribers.tasks.train_reader")
def train_reader(subscriber_id: int) -> bool:
    """Retrain one reader's model from their feedback and preferences; safe to run twice."""
    return training.reader_model_train(subscriber_id=subscriber_id) is not None


@shared_task(name="subscribers.tasks.retrain_stale_readers")
def retrain_stale_readers() -> int:
    """Train readers whose model is missing or of an older embedding, a batch at a time."""
    done = training.readers_retrain_stale(limit=STALE_BATCH)
    if done == STALE_BATCH:  # more may remain
        retrain_stale_readers.delay()
    return done


def retrain_reader_later(sender: object, *, subscriber_id: int, **kwargs: object) -> None:
    """Receiver of reader_changed (connected in apps.py): a worker retrains the reader."""
    train_reader.delay(subscriber_id)


def retrain_everyone_later(sender: object, **kwargs: object) -> None:
    """Receiver of papers' embedding_refitted: every reader's model is of the old version now."""
    retrain_stale_readers.delay()
