"""Suppressed addresses (hard bounce, complaint, repeated soft bounces, an admin's choice) get no email
at all, whoever signs them up; the page shown is the same as for anyone. An erasure is not such a
suppression: the person may come back by signing up and confirming."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from newsletter import link_emails
from subscribers import services
from subscribers.models import LinkEmail, Subscriber, Suppression
from subscribers.tokens import Purpose, email_hash, make_token
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db


def _final_page(client: Client, response) -> tuple[int, str, str]:
    page = client.get(response["Location"])
    return response.status_code, response["Location"], page.content.decode()


@pytest.mark.parametrize("reason", ["hard_bounce", "complaint", "soft_bounces", "manual"])
def test_it_mails_nothing_to_a_suppressed_address_and_shows_the_usual_page(
    client, signup, reason: str
) -> None:
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason=reason)
    blocked = _final_page(client, signup("gone@example.org"))
    fresh = _final_page(client, signup("new@example.org"))
    assert blocked == fresh
    assert [m.to for m in mail.outbox] == [["new@example.org"]]
    row = LinkEmail.objects.get(subscriber__email="gone@example.org")
    assert (row.state, row.last_error) == ("skipped", "the address is suppressed")


def test_a_suppressed_subscriber_signing_up_again_is_sent_nothing(signup, post) -> None:
    signup("ada@example.org")
    post(link("confirm"))
    mail.outbox.clear()
    services.subscriber_suppress(email="ada@example.org", reason=Suppression.Reason.COMPLAINT)
    for _ in range(3):
        assert signup("ada@example.org").status_code == 302
    assert post("/subscribe/new-link/", {"email": "ada@example.org"}).status_code == 302
    assert not mail.outbox
    assert Subscriber.objects.get().status == Subscriber.Status.SUPPRESSED


def test_an_erased_address_is_still_sent_its_confirmation(signup) -> None:
    Suppression.objects.create(email_hash=email_hash("ada@example.org"), reason="erased")
    signup("ada@example.org")
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]


def test_erasing_a_bounced_address_keeps_it_suppressed_for_all_mail(signup, post) -> None:
    signup("ada@example.org")
    post(link("confirm"))
    services.subscriber_suppress(email="ada@example.org", reason=Suppression.Reason.HARD_BOUNCE)
    subscriber = Subscriber.objects.get()
    token = make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)
    post(f"/manage/{token}/erase/", {"confirm": "erase"})
    assert Suppression.objects.get().reason == "hard_bounce"
    mail.outbox.clear()
    signup("ada@example.org")
    assert not mail.outbox


def test_a_confirmation_queued_before_the_bounce_is_not_sent(client) -> None:
    client.post(
        "/subscribe/",
        {
            "email": "ada@example.org",
            "topics": ["llm"],
            "cadence": "daily",
            "timezone": "UTC",
            "send_hour": "7",
        },
    )
    services.subscriber_suppress(email="ada@example.org", reason=Suppression.Reason.HARD_BOUNCE)
    link_emails.link_emails_sweep()
    assert not mail.outbox and LinkEmail.objects.get().state == "skipped"
