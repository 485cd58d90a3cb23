"""Sign-up emails go out through a real Celery worker over Redis, sent by beat's sweep."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from newsletter.tasks import send_owed_link_emails
from subscribers.models import Subscriber
from tests.workers import celery_worker, real_queue, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue_to_worker():
    with real_queue():
        yield


def test_the_confirmation_email_is_sent_by_a_worker(
    client, default_topics, queue_to_worker, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "PAPERMAIL_VAR_DIR": str(tmp_path / "var"),
        "SITE_URL": "https://papers.example.org",
    }
    with celery_worker(tmp_path, queues="send", extra_env=env):
        response = client.post(
            "/subscribe/",
            {
                "email": "ada@example.org",
                "topics": ["llm"],
                "cadence": "daily",
                "timezone": "UTC",
                "send_hour": "7",
            },
        )
        assert response.status_code == 302
        send_owed_link_emails.delay()  # what beat does every two seconds
        files = wait_for(lambda: list((tmp_path / "var" / "mail").glob("*.log")), timeout=30)
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    raw = files[0].read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0]
    message = email.message_from_bytes(raw)
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your papermail subscription"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert "https://papers.example.org/confirm/" in parts["text/plain"]
    assert not mail_dir.exists()
