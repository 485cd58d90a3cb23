"""Celery tasks that send subscription emails; thin: load by id, call a service or the email module."""

from __future__ import annotations

import smtplib

from anymail.exceptions import AnymailAPIError
from celery import shared_task

from newsletter import emails
from subscribers import selectors, services
from subscribers.models import ConsentRecord, Subscriber

TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    AnymailAPIError,
)


@shared_task(name="subscribers.tasks.send_owed_link_emails")
def send_owed_link_emails() -> int:
    """Beat's sweep, every two seconds: send the confirmation and preference-centre emails owed."""
    return services.link_emails_sweep()


# The two tasks below run messages queued by a release before link emails had an outbox,
# so an upgrade with sign-ups in the queue loses none of them.


@shared_task(
    name="subscribers.tasks.send_confirmation_email",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_confirmation_email(consent_id: int) -> bool:
    """Send the double opt-in email for one sign-up; return whether it was sent."""
    consent = ConsentRecord.objects.select_related("subscriber").filter(pk=consent_id).first()
    if consent is None or consent.confirmed_at is not None:
        return False
    if selectors.address_blocked(email=consent.subscriber.email):
        return False
    return emails.send_confirmation(subscriber=consent.subscriber, consent=consent)


@shared_task(
    name="subscribers.tasks.send_manage_link_email",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_manage_link_email(subscriber_id: int) -> bool:
    """Send an already-subscribed person the link to their preference centre."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or selectors.address_blocked(email=subscriber.email):
        return False
    return emails.send_manage_link(subscriber=subscriber)
