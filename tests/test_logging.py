"""Logs: quiet by default (routine sweeps say nothing at INFO), each record once, JSON by a setting."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsletter import dispatch, link_emails
from tests.test_settings import manage

# A process configured by the real settings logs what Celery logs about tasks, and a warning.
RECORDS = """
import logging
from celery.app import trace
log = logging.getLogger
for name in ("newsletter.tasks.send_owed_link_emails", "newsletter.tasks.dispatch_digests"):
    log("celery.beat").info("Scheduler: Sending due task %s (%s)", "every few seconds", name)
    log("celery.worker.strategy").info(trace.LOG_RECEIVED, {"name": name, "id": "t-1"})
    done = {"name": name, "id": "t-1", "runtime": 0.01, "return_value": 0}
    log("celery.app.trace").info(trace.LOG_SUCCESS, done)
log("django.request").warning("Not Found: %s", "/nothing-here/")
log("subscribers.services").warning("link email %s not sent", 7)
"""


def log_lines(tmp_path: Path, **env: str) -> list[str]:
    result = manage("shell", "-c", RECORDS, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()


def test_celerys_lines_about_the_frequent_sweep_are_not_logged_at_info(tmp_path: Path) -> None:
    lines = log_lines(tmp_path)
    assert not [line for line in lines if "send_owed_link_emails" in line]
    # Other tasks are still announced, received and reported.
    assert len([line for line in lines if "newsletter.tasks.dispatch_digests" in line]) == 3


def test_at_debug_the_frequent_sweep_is_logged_as_debug(tmp_path: Path) -> None:
    lines = [line for line in log_lines(tmp_path, LOG_LEVEL="DEBUG") if "send_owed_link_emails" in line]
    assert len(lines) == 3 and all(" DEBUG celery." in line for line in lines)


def test_each_warning_is_written_once(tmp_path: Path) -> None:
    lines = log_lines(tmp_path)
    assert len([line for line in lines if "Not Found: /nothing-here/" in line]) == 1
    assert len([line for line in lines if "link email 7 not sent" in line]) == 1


def test_log_format_json_writes_one_object_per_line(tmp_path: Path) -> None:
    records = [json.loads(line) for line in log_lines(tmp_path, LOG_FORMAT="json")]
    warning = next(r for r in records if r["logger"] == "subscribers.services")
    assert warning["level"] == "WARNING" and warning["message"] == "link email 7 not sent"
    assert warning["time"].startswith("20") and isinstance(warning["pid"], int)
    assert [r["message"] for r in records if r["logger"] == "django.request"] == ["Not Found: /nothing-here/"]


@pytest.mark.django_db
def test_sweeps_with_nothing_to_do_log_nothing_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert link_emails.link_emails_sweep() == 0
        assert dispatch.digests_dispatch().enqueued == 0
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
