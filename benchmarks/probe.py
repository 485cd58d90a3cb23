"""The Celery app, instrumented for the dispatch benchmark: counts the SQL queries of each task.

Workers started with ``celery -A benchmarks.probe worker`` run the real tasks;
after each one the number of queries it made goes to a Redis list.
"""

from __future__ import annotations

import json
import os

import redis
from celery.signals import task_postrun, task_prerun
from django.db import connection

from newsletter.celery import app

__all__ = ["app"]

_counts: dict[str, list[int]] = {}
_wrappers: dict[str, object] = {}
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])


class _Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.queries += 1
        return execute(sql, params, many, context)


@task_prerun.connect
def _start(task_id: str, task, args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    counter = _Counter()
    _wrappers[task_id] = counter
    connection.execute_wrappers.append(counter)


@task_postrun.connect
def _stop(task_id: str, task, args, retval=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
    counter = _wrappers.pop(task_id, None)
    if counter is None:
        return
    connection.execute_wrappers.remove(counter)
    size = len(args[0]) if task.name == "newsletter.tasks.send_chunk" and args else 0
    _redis.rpush("bench:queries", json.dumps({"task": task.name, "queries": counter.queries, "size": size}))  # type: ignore[attr-defined]
