"""Beat's dispatcher and real Celery workers deliver digests over SMTP to a local server."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from newsletter import dispatch
from newsletter.models import Delivery
from newsletter.tasks import send_chunk
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory
from tests.smtpsink import SmtpSink
from tests.workers import celery_worker, real_queue, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_workers_deliver_each_due_digest_once_over_smtp(tmp_path: Path) -> None:
    today = timezone.localdate()
    topic = TopicFactory(slug="t-llm", name="Language models", categories=["cs.CL"])
    for n in range(3):
        PaperFactory(title=f"Language paper {n}", categories=["cs.CL"], announced_on=today, upvotes=10 * n)
    for n in range(5):
        SubscriberFactory(email=f"reader{n}@example.org", topics=[topic], timezone="UTC")
    with SmtpSink() as sink:
        env = {
            "EMAIL_PROVIDER": "smtp",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "SITE_URL": "https://papers.example.org",
            "DEFAULT_FROM_EMAIL": "papermail <digest@papers.example.org>",
        }
        with celery_worker(tmp_path, queues="send,dispatch", extra_env=env), real_queue():
            dispatch.digests_dispatch(
                everyone=True, enqueue=send_chunk.delay
            )  # queues chunks for the workers
            wait_for(lambda: len(sink.messages) >= 5, timeout=60)
            wait_for(lambda: Delivery.objects.filter(state=Delivery.State.SENT).count() == 5, timeout=30)
            dispatch.digests_dispatch(
                everyone=True, enqueue=send_chunk.delay
            )  # a second run finds nothing to do
        messages = sink.messages
    assert sorted(str(m["To"]) for m in messages) == [f"reader{n}@example.org" for n in range(5)]
    message = messages[0]
    assert message["From"] == "papermail <digest@papers.example.org>"
    # A long header may be folded after the colon; unfolded, it is one bracketed HTTPS URL.
    assert str(message["List-Unsubscribe"]).strip().startswith("<https://papers.example.org/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].startswith("papermail digest <")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Language paper 2" in text and "Language paper 2" in html
    assert "https://papers.example.org/manage/" in text
    delivery = Delivery.objects.get(subscriber__email=str(message["To"]))
    assert delivery.message_id == str(message["Message-ID"])
