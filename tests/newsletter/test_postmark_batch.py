"""Postmark batch sending: many personalised digests per call to /email/batch, against a local fake API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter import dispatch, sending
from newsletter.mail_backends import PostmarkBatchBackend
from newsletter.models import Delivery
from subscribers.models import Subscriber
from subscribers.selectors import subscriber_for
from subscribers.tokens import Purpose
from tests.factories import SubscriberFactory
from tests.httpserver import Reply
from tests.newsletter.conftest import PARIS_SEVEN, dispatch_and_send

pytestmark = pytest.mark.django_db
BATCH = "/email/batch"
JSON = {"Content-Type": "application/json"}


def postmark_answer(refuse: str = "", single: bool = False) -> Reply:
    """Answer each message of a batch (or the one message) as Postmark does.

    Addresses starting with ``refuse`` are inactive.
    """

    def answer(body: bytes) -> bytes:
        results = []
        for n, message in enumerate([json.loads(body)] if single else json.loads(body)):
            if refuse and message["To"].startswith(refuse):
                results.append(
                    {
                        "ErrorCode": 406,
                        "Message": "You tried to send to a recipient that has been marked as inactive.\n"
                        f"Found inactive addresses: {message['To']}.\n"
                        "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
                    }
                )
            else:
                results.append(
                    {
                        "ErrorCode": 0,
                        "Message": "OK",
                        "MessageID": f"pm-{n}-{message['To']}",
                        "To": message["To"],
                    }
                )
        return json.dumps(results[0] if single else results).encode()

    return Reply(headers=JSON, answer=answer)


@pytest.fixture
def postmark(settings, feed_server):
    settings.EMAIL_BACKEND = "newsletter.mail_backends.PostmarkBatchBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token-123", "POSTMARK_API_URL": feed_server.url("/")}
    settings.DEFAULT_FROM_EMAIL = "papermail <digest@papers.example.org>"
    return feed_server


def sent_messages(server) -> list[dict[str, object]]:
    """Every message the fake API was sent, in batches or alone."""
    batched = [message for body in server.bodies[BATCH] for message in json.loads(body)]
    return batched + [json.loads(body) for body in server.bodies["/email"]]


def test_it_sends_a_chunk_of_different_digests_in_one_call(postmark, llm, papers) -> None:
    postmark.script(BATCH, postmark_answer())
    SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning"])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    assert dispatch_and_send().sent == 2
    [headers] = postmark.requests[BATCH]
    assert headers["X-Postmark-Server-Token"] == "server-token-123"
    by_address = {m["To"]: m for m in sent_messages(postmark)}
    ada, bob = by_address["ada@example.org"], by_address["bob@example.org"]
    assert ada["From"] == "papermail <digest@papers.example.org>"
    assert ada["Subject"] == "Wed 25 Nov: Reasoning with verifiers (+2 more)"
    assert 'matches "reasoning" · in Language models · trending: 142 upvotes' in ada["TextBody"]
    assert "matches &quot;reasoning&quot; · in Language models" in ada["HtmlBody"]
    assert "matches" not in bob["TextBody"]
    assert ada["Tag"] == "digest-daily"
    headers_of = {name: {h["Name"]: h["Value"] for h in m["Headers"]} for name, m in by_address.items()}
    unsubscribe = headers_of["ada@example.org"]["List-Unsubscribe"]
    assert headers_of["ada@example.org"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe.strip("<>").rstrip("/").rsplit("/", 1)[-1]
    assert subscriber_for(Purpose.UNSUBSCRIBE, token).email == "ada@example.org"
    assert unsubscribe != headers_of["bob@example.org"]["List-Unsubscribe"]
    assert unsubscribe.strip("<>") in ada["TextBody"]
    ids = {d.subscriber.email: d for d in Delivery.objects.select_related("subscriber")}
    assert ada["Metadata"] == {"delivery_id": str(ids["ada@example.org"].pk), "edition": "daily:2026-11-25"}
    # Each row records the id Postmark gave its own message.
    assert ids["ada@example.org"].message_id.endswith("-ada@example.org")
    assert ids["bob@example.org"].message_id.endswith("-bob@example.org")
    assert {d.state for d in ids.values()} == {Delivery.State.SENT}


def test_it_keeps_to_the_batch_size(postmark, llm, papers, settings) -> None:
    settings.DIGEST_BATCH_SIZE = 2
    postmark.script(BATCH, postmark_answer())
    postmark.script("/email", postmark_answer(single=True))
    for n in range(5):
        SubscriberFactory(email=f"r{n}@example.org", topics=[llm])
    assert dispatch_and_send().sent == 5
    # Two batches of two, and the last one alone through Postmark's single-message endpoint.
    assert [len(json.loads(body)) for body in postmark.bodies[BATCH]] == [2, 2]
    assert len(postmark.bodies["/email"]) == 1
    assert sorted(m["To"] for m in sent_messages(postmark)) == [f"r{n}@example.org" for n in range(5)]


def test_a_refused_address_fails_alone_and_the_rest_go(postmark, llm, papers) -> None:
    postmark.script(BATCH, postmark_answer(refuse="gone"))
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="gone@example.org", topics=[llm])
    result = dispatch_and_send()
    assert (result.sent, result.failed) == (1, 1)
    failed = Delivery.objects.get(state=Delivery.State.FAILED)
    assert failed.subscriber.email == "gone@example.org"
    assert "rejected" in failed.last_error and "inactive" in failed.last_error
    assert Delivery.objects.get(state=Delivery.State.SENT).subscriber.email == "ada@example.org"


def test_an_outage_puts_the_whole_batch_back_and_the_retry_sends_each_once(postmark, llm, papers) -> None:
    postmark.script(BATCH, Reply(status=503, body=b"Service Unavailable"), postmark_answer())
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    outcome = dispatch_and_send()
    assert isinstance(outcome, sending.TransientSendError) and "503" in str(outcome)
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.PENDING}
    ids = list(Delivery.objects.values_list("pk", flat=True))
    later = PARIS_SEVEN + dt.timedelta(minutes=1)
    assert sending.chunk_send(delivery_ids=ids, now=later).sent == 2
    assert sorted(m["To"] for m in sent_messages(postmark)) == [
        "ada@example.org",
        "ada@example.org",  # the refused batch, counted by the fake API; it was not accepted
        "bob@example.org",
        "bob@example.org",
    ]
    assert len(postmark.bodies[BATCH]) == 2


def test_a_garbled_answer_is_an_error_for_the_batch_not_a_silent_success(postmark, llm, papers) -> None:
    postmark.script(BATCH, Reply(headers=JSON, body=b'[{"ErrorCode": 0, "Message": "OK"}]'))
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    outcome = dispatch_and_send()
    # One answer for two messages: nothing is marked sent; the rows wait for a retry.
    assert isinstance(outcome, sending.TransientSendError)
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.PENDING}


@pytest.mark.postgres  # elsewhere each row's message id is its own UPDATE
def test_sending_a_chunk_takes_the_same_queries_for_one_or_fifty(postmark, llm, papers) -> None:
    postmark.script(BATCH, postmark_answer())
    postmark.script("/email", postmark_answer(single=True))

    def queries_for(count: int) -> int:
        Delivery.objects.all().delete()
        Subscriber.objects.all().delete()
        for n in range(count):
            SubscriberFactory(email=f"q{count}-{n}@example.org", topics=[llm], keywords=["reasoning"])
        result = dispatch.digests_dispatch(now=PARIS_SEVEN)
        ids = [pk for chunk in result.chunks for pk in chunk]
        with CaptureQueriesContext(connection) as queries:
            assert sending.chunk_send(delivery_ids=ids, now=PARIS_SEVEN).sent == count
        return len(queries)

    one = queries_for(1)
    assert queries_for(50) == one


def test_messages_it_cannot_write_itself_go_through_anymails_payload(postmark) -> None:
    postmark.script(BATCH, postmark_answer())
    plain = EmailMultiAlternatives("Hi", "text", to=["ada@example.org"])
    plain.attach_alternative("<p>html</p>", "text/html")
    named = EmailMultiAlternatives("Hi", "text", to=["Bob Example <bob@example.org>"], cc=["c@example.org"])
    named.attach_alternative("<p>html</p>", "text/html")
    connection = get_connection()
    assert isinstance(connection, PostmarkBatchBackend)
    assert connection.send_messages([plain, named]) == 2
    ada, bob = sent_messages(postmark)
    assert ada["To"] == "ada@example.org" and ada["HtmlBody"] == "<p>html</p>"
    assert bob["To"] == "Bob Example <bob@example.org>" and bob["Cc"] == "c@example.org"
    assert plain.anymail_status.status == {"sent"} and bob["TextBody"] == "text"


def test_one_message_uses_anymails_single_send(postmark) -> None:
    postmark.script(
        "/email",
        Reply(
            headers=JSON, body=b'{"ErrorCode": 0, "Message": "OK", "MessageID": "one", "To": "a@example.org"}'
        ),
    )
    message = EmailMultiAlternatives("Hi", "text", to=["a@example.org"])
    assert get_connection().send_messages([message]) == 1
    assert message.anymail_status.message_id == "one"
    assert not mail.outbox


def test_a_message_for_several_recipients_goes_in_a_request_of_its_own(postmark) -> None:
    postmark.script(BATCH, postmark_answer())
    plain = EmailMultiAlternatives("Hi", "text", to=["ada@example.org"])
    plain.attach_alternative("<p>html</p>", "text/html")
    many = EmailMultiAlternatives("Hello all", "text", to=["bob@example.org", "cy@example.org"])
    many.merge_metadata = {"bob@example.org": {"n": "1"}, "cy@example.org": {"n": "2"}}  # Anymail batch
    assert get_connection().send_messages([plain, many]) == 2
    bodies = [json.loads(body) for body in postmark.bodies[BATCH]]
    assert [m["To"] for m in bodies[0]] == ["bob@example.org", "cy@example.org"]  # Anymail's own request
    assert [m["To"] for m in bodies[1]] == ["ada@example.org"]
    assert many.anymail_status.status == {"sent"} and plain.anymail_status.status == {"sent"}
