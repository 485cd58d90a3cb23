"""Loading the web application, as gunicorn's master does once before forking its workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LOAD = """
import gc, json, os
import newsletter.wsgi
sockets = []
for fd in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if target.startswith("socket:"):
        sockets.append(target)
print(json.dumps({"sockets": sockets, "frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}))
"""

WORKER_INIT = """
import gc, json
from celery.signals import worker_init
from newsletter.celery import app
before = gc.get_threshold()
worker_init.send(sender=None)  # what `celery worker` sends before starting its pool
print(json.dumps({"before": before, "after": gc.get_threshold()}))
"""


def load(code: str, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "newsletter.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_loading_the_application_opens_no_connection_and_freezes_what_it_loaded() -> None:
    # gunicorn.conf.py preloads the application: a database, cache or broker connection opened
    # while loading would be shared by every forked worker, and their queries would interleave.
    loaded = load(LOAD)
    assert loaded["sockets"] == []
    # The views are loaded and frozen: the collector's full passes in each worker skip them.
    assert loaded["frozen"] > 50_000


def test_web_and_celery_workers_collect_cyclic_garbage_less_often() -> None:
    # CPython's default (700, 10, 10) cost a sending worker a sixth of its time; see newsletter/collector.py.
    assert load(LOAD)["thresholds"] == [50_000, 10, 10]
    assert load(LOAD, GC_THRESHOLDS="20000,5,5")["thresholds"] == [20_000, 5, 5]
    worker = load(WORKER_INIT, GC_THRESHOLDS="30000,7,9")
    assert worker == {"before": [700, 10, 10], "after": [30_000, 7, 9]}
