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
print(json.dumps({"sockets": sockets, "frozen": gc.get_freeze_count()}))
"""


def test_loading_the_application_opens_no_connection_and_freezes_what_it_loaded() -> None:
    # gunicorn.conf.py preloads the application: a database, cache or broker connection opened
    # while loading would be shared by every forked worker, and their queries would interleave.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "newsletter.settings"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["sockets"] == []
    # The views are loaded and frozen: the collector's full passes in each worker skip them.
    assert loaded["frozen"] > 50_000
