"""A real Anymail HTTP backend (Mailgun, a message per call) against a local fake API: payload, errors."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from urllib.parse import parse_qs

import pytest

from newsletter import dispatch, sending
from newsletter.models import Delivery
from tests.factories import SubscriberFactory
from tests.httpserver import Reply
from tests.newsletter.conftest import PARIS_SEVEN, dispatch_and_send

pytestmark = pytest.mark.django_db
PATH = "/v3/papers.example.org/messages"
OK = Reply(
    body=json.dumps(
        {"id": "<20261125060000.1@papers.example.org>", "message": "Queued. Thank you."}
    ).encode(),
    headers={"Content-Type": "application/json"},
)


@pytest.fixture
def mailgun(settings, feed_server):
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "key-test-123",
        "MAILGUN_API_URL": feed_server.url("/v3"),
        "MAILGUN_SENDER_DOMAIN": "papers.example.org",
    }
    settings.DEFAULT_FROM_EMAIL = "papermail <digest@papers.example.org>"
    return feed_server


def form_fields(body: bytes, content_type: str) -> dict[str, list[str]]:
    """Parse a form body (urlencoded, or multipart when there are attachments) into {name: [values]}."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode(), keep_blank_values=True)
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    fields: dict[str, list[str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields.setdefault(name, []).append(
            part.get_content().strip() if part.get_content_type().startswith("text") else part.get_payload()
        )
    return fields


def test_each_digest_is_its_own_call_with_its_links_headers_and_metadata(mailgun, llm, papers) -> None:
    mailgun.script(PATH, OK)
    SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning"])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    assert dispatch_and_send().sent == 2
    assert len(mailgun.bodies[PATH]) == 2  # Mailgun takes one message per call
    sent = {}
    for headers, body in zip(mailgun.requests[PATH], mailgun.bodies[PATH], strict=True):
        assert headers["Authorization"].startswith("Basic ")
        fields = form_fields(body, headers["Content-Type"])
        [to] = fields["to"]
        sent[to] = fields
    ada, bob = sent["ada@example.org"], sent["bob@example.org"]
    assert ada["from"] == ["papermail <digest@papers.example.org>"]
    assert ada["subject"] == ["Wed 25 Nov: Reasoning with verifiers (+2 more)"]
    assert 'matches "reasoning" · in Language models · trending: 142 upvotes' in ada["text"][0]
    assert "matches &quot;reasoning&quot; · in Language models · trending: 142 upvotes" in ada["html"][0]
    assert "in Language models · trending: 142 upvotes" in bob["text"][0] and "matches" not in bob["text"][0]
    [unsubscribe] = ada["h:List-Unsubscribe"]
    assert unsubscribe.startswith("<https://papers.example.org/unsubscribe/")
    assert unsubscribe != bob["h:List-Unsubscribe"][0] and unsubscribe.strip("<>") in ada["text"][0]
    assert ada["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    ids = {d.subscriber.email: str(d.pk) for d in Delivery.objects.select_related("subscriber")}
    assert json.loads(ada["v:delivery_id"][0]) == int(ids["ada@example.org"])
    assert ada["o:tag"] == ["digest-daily"]
    assert set(Delivery.objects.values_list("message_id", flat=True)) == {
        "<20261125060000.1@papers.example.org>"
    }


def test_a_provider_outage_puts_the_chunk_back_and_the_retry_sends_once(mailgun, llm, papers) -> None:
    mailgun.script(PATH, Reply(status=503, body=b"Service Unavailable"), OK)
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    outcome = dispatch_and_send()
    assert isinstance(outcome, sending.TransientSendError) and "503" in str(outcome)
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.PENDING}
    assert all(d.retry_after and d.last_error for d in Delivery.objects.all())
    ids = list(Delivery.objects.values_list("pk", flat=True))
    # The task's own retry owns the rows: the dispatcher does not queue them a second time...
    assert dispatch.digests_dispatch(now=PARIS_SEVEN + dt.timedelta(minutes=5)).enqueued == 0
    # ...and the retry sends each once.
    assert sending.chunk_send(delivery_ids=ids, now=PARIS_SEVEN + dt.timedelta(minutes=1)).sent == 2
    assert sorted(Delivery.objects.values_list("state", flat=True)) == [Delivery.State.SENT] * 2
    assert len(mailgun.bodies[PATH]) == 3  # one refused, then one for each


def test_rows_whose_retry_was_lost_are_queued_again_by_the_dispatcher(mailgun, llm, papers, settings) -> None:
    mailgun.script(PATH, Reply(status=502, body=b"Bad Gateway"), OK)
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send()  # transient failure; then the broker loses the retry message
    later = PARIS_SEVEN + dt.timedelta(seconds=settings.DIGEST_REQUEUE_SECONDS + 60)
    result = dispatch.digests_dispatch(now=later)
    assert result.enqueued == 1
    assert sending.chunk_send(delivery_ids=result.chunks[0], now=later).sent == 1


def test_a_rejected_address_fails_alone_and_is_not_retried(mailgun, llm, papers) -> None:
    bad = Reply(
        status=400,
        body=json.dumps(
            {"message": "'to' parameter is not a valid address. please check documentation"}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    mailgun.script(PATH, bad, OK)
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    outcome = dispatch_and_send()
    assert (outcome.sent, outcome.failed) == (1, 1)
    failed = Delivery.objects.get(state=Delivery.State.FAILED)
    assert "not a valid address" in failed.last_error
    assert dispatch.digests_dispatch(now=PARIS_SEVEN + dt.timedelta(hours=1)).enqueued == 0


def test_a_rate_limit_is_transient(mailgun, llm, papers) -> None:
    mailgun.script(
        PATH,
        Reply(status=429, body=b'{"message": "slow down"}', headers={"Content-Type": "application/json"}),
    )
    SubscriberFactory(email="ada@example.org", topics=[llm])
    assert isinstance(dispatch_and_send(), sending.TransientSendError)
    assert Delivery.objects.get().state == Delivery.State.PENDING


def test_retry_failed_sends_a_failed_delivery_once_more(mailgun, llm, papers) -> None:
    bad = Reply(status=400, body=b'{"message": "bad"}', headers={"Content-Type": "application/json"})
    mailgun.script(PATH, bad, OK)
    SubscriberFactory(email="ada@example.org", topics=[llm])
    dispatch_and_send()
    failed = Delivery.objects.get()
    assert dispatch.deliveries_retry_failed(delivery_ids=[failed.pk]) == 1
    assert dispatch_and_send(PARIS_SEVEN + dt.timedelta(minutes=1)).sent == 1
    assert dispatch.deliveries_retry_failed(delivery_ids=[failed.pk]) == 0  # sent rows stay sent
