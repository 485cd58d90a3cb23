"""Confirmation and preference-centre emails are owed in the database until beat's sweep sends them:
a sign-up never needs the broker, a row is sent once however often it is tried, a provider outage
is retried with a growing wait, and an email that fails does not hold back the others."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.core import mail

from newsletter import link_emails, tasks
from subscribers import signup
from subscribers.models import LinkEmail, Subscriber, SubscriberEvent
from subscribers.preferences import Preferences
from subscribers.services import RequestInfo
from tests.httpserver import Reply
from tests.smtpsink import SmtpSink, free_port
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db

SIGNUP = {"topics": ["llm"], "cadence": "daily", "timezone": "UTC", "send_hour": "7"}


def closed_smtp(settings) -> None:  # type: ignore[no-untyped-def]
    """Send over SMTP to a local port where nothing listens: every connection is refused."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2


def owed_signup(client, email: str = "ada@example.org") -> LinkEmail:
    """Sign up without running what the request queued after commit; return the owed email."""
    response = client.post("/subscribe/", {"email": email, **SIGNUP})
    assert response.status_code == 302
    return LinkEmail.objects.get(subscriber__email=email)


@contextmanager
def broker_down() -> Iterator[None]:
    """Point task publishing at a port where nothing listens: every publish fails to connect."""
    from newsletter.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_connection_max_retries)
    app.conf.task_always_eager, app.conf.broker_url = False, "redis://127.0.0.1:1/0"
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_connection_max_retries = saved
        app._pool = app.amqp._producer_pool = None


def test_a_signup_while_the_broker_is_down_succeeds_and_the_sweep_sends_its_email(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False), broker_down(), caplog.at_level(logging.WARNING):
        response = client.post("/subscribe/", {"email": "ada@example.org", **SIGNUP})
    # The request only writes the owed email: it never needed the broker.
    assert response.status_code == 302 and response["Location"] == "/subscribe/check-your-inbox/"
    assert "Error" not in caplog.text and mail.outbox == []
    owed = LinkEmail.objects.get()
    assert (owed.kind, owed.state, owed.attempts) == (LinkEmail.Kind.CONFIRMATION, LinkEmail.State.OWED, 0)

    # Once the broker is back, beat's next sweep sends it.
    with time_machine.travel(start + dt.timedelta(seconds=2), tick=False):
        assert tasks.send_owed_link_emails() == 1
        assert tasks.send_owed_link_emails() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.org"]
    owed.refresh_from_db()
    assert owed.state == LinkEmail.State.SENT and owed.sent_at == start + dt.timedelta(seconds=2)
    assert SubscriberEvent.objects.filter(kind=SubscriberEvent.Kind.CONFIRMATION_SENT).count() == 1
    assert link("confirm").startswith("/confirm/")


def test_the_email_goes_once_however_often_the_sweep_runs(client) -> None:
    owed = owed_signup(client)
    assert link_emails.link_emails_sweep() == 1
    assert link_emails.link_emails_sweep() == 0
    assert link_emails.link_emails_sweep(now=owed.created_at + dt.timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1
    owed.refresh_from_db()
    assert (owed.state, owed.attempts) == (LinkEmail.State.SENT, 1)


def test_a_row_another_worker_holds_is_left_alone_until_its_claim_expires(client) -> None:
    owed = owed_signup(client)
    now = owed.created_at + dt.timedelta(minutes=1)
    LinkEmail.objects.filter(pk=owed.pk).update(claimed_until=now + dt.timedelta(minutes=4))
    with time_machine.travel(now, tick=False):
        assert link_emails.link_emails_sweep() == 0
        assert link_emails.link_emails_sweep() == 0
    assert mail.outbox == []
    # The holder died: after its claim runs out, the sweep sends the email.
    with time_machine.travel(now + dt.timedelta(minutes=5), tick=False):
        assert link_emails.link_emails_sweep() == 1
    assert len(mail.outbox) == 1


def test_a_refused_connection_backs_the_email_off_counted_and_a_later_sweep_sends_it(
    client, settings
) -> None:
    settings.LINK_EMAIL_RETRY_BACKOFF = 30
    owed = owed_signup(client)
    closed_smtp(settings)
    now = owed.created_at + dt.timedelta(seconds=1)
    assert link_emails.link_emails_sweep(now=now) == 0
    owed.refresh_from_db()
    assert (owed.state, owed.attempts, owed.claimed_until) == (LinkEmail.State.OWED, 1, None)
    assert owed.retry_after == now + dt.timedelta(seconds=30)
    assert owed.last_error.startswith("ConnectionRefusedError")

    with SmtpSink() as sink:
        settings.EMAIL_PORT = sink.port
        # Not before its backoff is over...
        assert link_emails.link_emails_sweep(now=now + dt.timedelta(seconds=29)) == 0
        # ...then it goes.
        assert link_emails.link_emails_sweep(now=now + dt.timedelta(seconds=30)) == 1
        assert [str(m["To"]) for m in sink.messages] == ["ada@example.org"]
    owed.refresh_from_db()
    assert (owed.state, owed.attempts) == (LinkEmail.State.SENT, 2)


def test_each_failed_try_doubles_the_wait(client, settings) -> None:
    settings.LINK_EMAIL_RETRY_BACKOFF = 10
    owed = owed_signup(client)
    closed_smtp(settings)
    now = owed.created_at
    waits = []
    for _ in range(4):
        link_emails.link_emails_sweep(now=now)
        owed.refresh_from_db()
        waits.append((owed.retry_after - now).total_seconds())
        now = owed.retry_after
    assert waits == [10, 20, 40, 80]
    assert owed.attempts == 4


def test_when_the_provider_cannot_be_reached_the_sweep_stops_and_counts_only_the_email_it_tried(
    client, settings
) -> None:
    first, second = owed_signup(client, "ada@example.org"), owed_signup(client, "bob@example.org")
    closed_smtp(settings)
    now = second.created_at + dt.timedelta(seconds=1)
    assert link_emails.link_emails_sweep(now=now) == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, first.retry_after is not None) == (1, True)
    # Every other email would fail the same way: it is left as it was, for the next sweep.
    assert (second.state, second.attempts, second.claimed_until, second.retry_after) == (
        "owed",
        0,
        None,
        None,
    )

    # The next sweep tries the next email, not the one backing off.
    assert link_emails.link_emails_sweep(now=now + dt.timedelta(seconds=2)) == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (1, 1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert link_emails.link_emails_sweep(now=now + dt.timedelta(hours=1)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "bob@example.org"]


def test_a_poison_email_ahead_of_a_normal_one_fails_at_once_and_the_normal_one_goes_in_the_same_sweep(
    client,
) -> None:
    # A domain the IDNA codec cannot encode (a label longer than 63 characters) got in.
    poison = "x@" + "bü" * 40 + ".de"
    signup.subscription_request(email=poison, preferences=Preferences(topics=["llm"]), request=RequestInfo())
    owed_signup(client)
    assert link_emails.link_emails_sweep() == 1
    assert [m.to[0] for m in mail.outbox] == ["ada@example.org"]
    bad = LinkEmail.objects.get(subscriber__email=poison)
    assert (bad.state, bad.attempts, bad.retry_after) == (LinkEmail.State.FAILED, 1, None)
    assert "idna" in bad.last_error
    assert link_emails.link_emails_sweep(now=bad.created_at + dt.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


INACTIVE = Reply(  # Postmark's answer for an address that bounced or complained before
    status=422,
    headers={"Content-Type": "application/json"},
    body=json.dumps(
        {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.\n"
            "Found inactive addresses: ada@example.org.\n"
            "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
        }
    ).encode(),
)
NOT_ACCEPTABLE = Reply(status=406, headers={"Content-Type": "text/plain"}, body=b"Not Acceptable")


@pytest.mark.parametrize("refusal", [INACTIVE, NOT_ACCEPTABLE], ids=["inactive-recipient", "http-406"])
def test_an_address_the_provider_rejects_fails_at_once_and_the_next_email_goes_in_the_same_sweep(
    client, settings, feed_server, refusal: Reply
) -> None:
    settings.EMAIL_BACKEND = "newsletter.mail_backends.PostmarkBatchBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token-123", "POSTMARK_API_URL": feed_server.url("/")}
    accepted = Reply(
        headers={"Content-Type": "application/json"},
        body=json.dumps(
            {"ErrorCode": 0, "Message": "OK", "MessageID": "pm-1", "To": "bob@example.org"}
        ).encode(),
    )
    feed_server.script("/email", refusal, accepted)
    first, second = owed_signup(client, "ada@example.org"), owed_signup(client, "bob@example.org")
    assert link_emails.link_emails_sweep() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts, first.retry_after) == (LinkEmail.State.FAILED, 1, None)
    assert first.last_error.startswith(("AnymailRecipientsRefused", "AnymailRequestsAPIError"))
    assert second.state == LinkEmail.State.SENT
    assert [json.loads(body)["To"] for body in feed_server.bodies["/email"]] == [
        "ada@example.org",
        "bob@example.org",
    ]


def test_a_recipient_the_smtp_server_refuses_for_good_does_not_hold_back_the_next(client, settings) -> None:
    owed_signup(client, "gone@example.org")
    owed_signup(client, "bob@example.org")
    with SmtpSink(refuse="gone@") as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        assert link_emails.link_emails_sweep() == 1
        assert [str(m["To"]) for m in sink.messages] == ["bob@example.org"]
    gone = LinkEmail.objects.get(subscriber__email="gone@example.org")
    assert (gone.state, gone.attempts) == (LinkEmail.State.FAILED, 1)
    assert "550" in gone.last_error


def test_a_sweep_takes_a_batch_oldest_first_and_the_next_sweep_the_rest(client, monkeypatch) -> None:
    monkeypatch.setattr(link_emails, "LINK_EMAIL_SWEEP_BATCH", 2)
    for name in ("ada", "bob", "cy"):
        owed_signup(client, f"{name}@example.org")
    assert link_emails.link_emails_sweep() == 2
    assert [m.to[0] for m in mail.outbox] == ["ada@example.org", "bob@example.org"]
    assert link_emails.link_emails_sweep() == 1 and link_emails.link_emails_sweep() == 0
    assert mail.outbox[-1].to == ["cy@example.org"]


def test_after_the_last_attempt_the_email_is_marked_failed_with_its_error(client, settings) -> None:
    settings.LINK_EMAIL_MAX_ATTEMPTS = 2
    owed = owed_signup(client)
    closed_smtp(settings)
    assert link_emails.link_emails_sweep(now=owed.created_at) == 0
    owed.refresh_from_db()
    assert owed.state == LinkEmail.State.OWED
    assert link_emails.link_emails_sweep(now=owed.retry_after) == 0
    owed.refresh_from_db()
    assert (owed.state, owed.attempts, owed.retry_after) == (LinkEmail.State.FAILED, 2, None)
    assert owed.last_error.startswith("gave up after 2 attempts: ConnectionRefusedError")
    assert link_emails.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=1)) == 0


def test_an_email_owed_longer_than_its_age_limit_is_dropped_not_sent(client, settings) -> None:
    settings.LINK_EMAIL_MAX_AGE_HOURS = 24
    owed = owed_signup(client)
    assert link_emails.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=25)) == 0
    owed.refresh_from_db()
    assert (owed.state, owed.last_error) == (LinkEmail.State.SKIPPED, "too old to send")
    assert link_emails.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=26)) == 0
    assert mail.outbox == []


def test_a_confirmation_owed_after_the_person_confirmed_is_dropped(client, post) -> None:
    owed_signup(client)
    assert link_emails.link_emails_sweep() == 1
    owed = LinkEmail.objects.get()
    post(link("confirm"))
    # A resend queued before the click, sent after it, would only confuse: it is dropped.
    later = LinkEmail.objects.create(subscriber=owed.subscriber, kind=owed.kind, consent=owed.consent)
    assert link_emails.link_emails_sweep() == 0
    later.refresh_from_db()
    assert (later.state, later.last_error) == (LinkEmail.State.SKIPPED, "already confirmed")
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    assert len(mail.outbox) == 1


def test_an_active_subscriber_signing_up_again_is_owed_a_confirmation_of_the_new_choices(
    active, client
) -> None:
    client.post("/subscribe/", {"email": "ada@example.org", **SIGNUP, "topics": ["robotics"]})
    owed = LinkEmail.objects.get(kind=LinkEmail.Kind.CONFIRMATION, state=LinkEmail.State.OWED)
    assert owed.consent.requested_preferences["topics"] == ["robotics"]
    assert link_emails.link_emails_sweep() == 1
    owed.refresh_from_db()
    assert owed.state == LinkEmail.State.SENT
    assert link("confirm").startswith("/confirm/") and link("manage").startswith("/manage/")
