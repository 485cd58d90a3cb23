"""Confirmation and preference-centre emails are owed in the database until beat's sweep sends them:
a sign-up never needs the broker, a row is sent once however often it is tried, and a provider outage
is retried."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.core import mail

from subscribers import services, tasks
from subscribers.models import LinkEmail, Subscriber, SubscriberEvent
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db

SIGNUP = {"topics": ["llm"], "cadence": "daily", "timezone": "UTC", "send_hour": "7"}


def refuse_smtp(settings) -> None:  # type: ignore[no-untyped-def]
    """Send through an SMTP server that refuses connections: nothing listens on port 1."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2


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
    assert services.link_emails_sweep() == 1
    assert services.link_emails_sweep() == 0
    assert services.link_emails_sweep(now=owed.created_at + dt.timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1
    owed.refresh_from_db()
    assert (owed.state, owed.attempts) == (LinkEmail.State.SENT, 1)


def test_a_row_another_worker_holds_is_left_alone_until_its_claim_expires(client) -> None:
    owed = owed_signup(client)
    now = owed.created_at + dt.timedelta(minutes=1)
    LinkEmail.objects.filter(pk=owed.pk).update(claimed_until=now + dt.timedelta(minutes=4))
    with time_machine.travel(now, tick=False):
        assert services.link_emails_sweep() == 0
        assert services.link_emails_sweep() == 0
    assert mail.outbox == []
    # The holder died: after its claim runs out, the sweep sends the email.
    with time_machine.travel(now + dt.timedelta(minutes=5), tick=False):
        assert services.link_emails_sweep() == 1
    assert len(mail.outbox) == 1


def test_a_provider_outage_puts_the_email_back_counted_and_a_later_try_sends_it(client, settings) -> None:
    owed = owed_signup(client)
    refuse_smtp(settings)
    with pytest.raises(ConnectionRefusedError):
        services.link_emails_sweep()
    owed.refresh_from_db()
    assert (owed.state, owed.attempts, owed.claimed_until) == (LinkEmail.State.OWED, 1, None)
    assert owed.last_error.startswith("ConnectionRefusedError")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.link_emails_sweep() == 1
    owed.refresh_from_db()
    assert (owed.state, owed.attempts) == (LinkEmail.State.SENT, 2)
    assert len(mail.outbox) == 1


def test_a_provider_error_ends_the_sweep_and_the_next_one_sends_the_rest(client, settings) -> None:
    first, second = owed_signup(client, "ada@example.org"), owed_signup(client, "bob@example.org")
    refuse_smtp(settings)
    with pytest.raises(ConnectionRefusedError):
        services.link_emails_sweep()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts, second.state, second.attempts) == ("owed", 1, "owed", 0)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.link_emails_sweep() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "bob@example.org"]


def test_a_sweep_takes_a_batch_oldest_first_and_the_next_sweep_the_rest(client, monkeypatch) -> None:
    monkeypatch.setattr(services, "LINK_EMAIL_SWEEP_BATCH", 2)
    for name in ("ada", "bob", "cy"):
        owed_signup(client, f"{name}@example.org")
    assert services.link_emails_sweep() == 2
    assert [m.to[0] for m in mail.outbox] == ["ada@example.org", "bob@example.org"]
    assert services.link_emails_sweep() == 1 and services.link_emails_sweep() == 0
    assert mail.outbox[-1].to == ["cy@example.org"]


def test_after_the_last_attempt_the_email_is_marked_failed_with_its_error(client, settings) -> None:
    settings.LINK_EMAIL_MAX_ATTEMPTS = 1
    owed = owed_signup(client)
    refuse_smtp(settings)
    with pytest.raises(ConnectionRefusedError):
        services.link_emails_sweep()
    owed.refresh_from_db()
    assert owed.state == LinkEmail.State.FAILED and "ConnectionRefusedError" in owed.last_error
    assert services.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=1)) == 0


def test_an_email_owed_longer_than_its_age_limit_is_dropped_not_sent(client, settings) -> None:
    settings.LINK_EMAIL_MAX_AGE_HOURS = 24
    owed = owed_signup(client)
    assert services.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=25)) == 0
    owed.refresh_from_db()
    assert (owed.state, owed.last_error) == (LinkEmail.State.SKIPPED, "too old to send")
    assert services.link_emails_sweep(now=owed.created_at + dt.timedelta(hours=26)) == 0
    assert mail.outbox == []


def test_a_confirmation_owed_after_the_person_confirmed_is_dropped(client, post) -> None:
    owed_signup(client)
    assert services.link_emails_sweep() == 1
    owed = LinkEmail.objects.get()
    post(link("confirm"))
    # A resend queued before the click, sent after it, would only confuse: it is dropped.
    later = LinkEmail.objects.create(subscriber=owed.subscriber, kind=owed.kind, consent=owed.consent)
    assert services.link_emails_sweep() == 0
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
    assert services.link_emails_sweep() == 1
    owed.refresh_from_db()
    assert owed.state == LinkEmail.State.SENT
    assert link("confirm").startswith("/confirm/") and link("manage").startswith("/manage/")
