"""Provider webhooks (Postmark payload shapes through Anymail): authenticated, idempotent, acted on."""

from __future__ import annotations

import base64
import json

import pytest

from newsletter.models import Delivery, TrackingEvent
from subscribers.models import Subscriber, Suppression
from subscribers.tokens import email_hash
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
URL = "/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret-value"}


def post(client, payload: dict, secret: str = "hook:s3cret-value"):
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    return client.post(URL, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth)


def bounce(
    kind: str = "HardBounce", event_id: int = 4323372036854775807, email: str = "ada@example.org", **extra
) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": event_id,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "digest",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "digest@papers.example.org",
        "BouncedAt": "2026-11-25T06:01:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Wed 25 Nov: Reasoning with verifiers",
        **extra,
    }


@pytest.fixture
def ada() -> Subscriber:
    return SubscriberFactory(email="ada@example.org")


def test_a_wrong_secret_is_refused_and_nothing_is_stored(client, ada) -> None:
    response = post(client, bounce(), secret="hook:guess")
    assert response.status_code in (400, 401, 403)
    assert not TrackingEvent.objects.exists()
    ada.refresh_from_db()
    assert ada.status == "active"


def test_no_secret_at_all_is_refused(client, ada) -> None:
    response = client.post(URL, json.dumps(bounce()), content_type="application/json")
    assert response.status_code in (400, 401, 403) and not TrackingEvent.objects.exists()


def test_a_hard_bounce_suppresses_the_address_at_once(client, ada) -> None:
    assert post(client, bounce()).status_code == 200
    ada.refresh_from_db()
    assert (ada.status, ada.suppressed_reason) == ("suppressed", "hard_bounce")
    assert Suppression.objects.get().email_hash == email_hash("ada@example.org")
    event = TrackingEvent.objects.get()
    assert (event.provider, event.event_type, event.bounce, event.subscriber) == (
        "postmark",
        "bounced",
        "hard",
        ada,
    )


def test_a_replayed_event_is_stored_once(client, ada) -> None:
    post(client, bounce())
    post(client, bounce())
    assert TrackingEvent.objects.count() == 1
    assert ada.events.filter(kind="suppressed").count() == 1


def test_soft_bounces_suppress_only_after_two(client, ada) -> None:
    post(client, bounce("SoftBounce", event_id=1))
    ada.refresh_from_db()
    assert ada.status == "active"
    post(client, bounce("SoftBounce", event_id=2))
    ada.refresh_from_db()
    assert (ada.status, ada.suppressed_reason) == ("suppressed", "soft_bounces")
    assert list(TrackingEvent.objects.values_list("bounce", flat=True)) == ["soft", "soft"]


def test_a_spam_complaint_suppresses_at_once(client, ada) -> None:
    payload = bounce("SpamComplaint", event_id=7, RecordType="SpamComplaint")
    post(client, payload)
    ada.refresh_from_db()
    assert (ada.status, ada.suppressed_reason) == ("suppressed", "complaint")


def test_a_provider_side_unsubscribe_unsubscribes(client, ada) -> None:
    post(
        client,
        {
            "RecordType": "SubscriptionChange",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "ServerID": 23,
            "MessageStream": "outbound",
            "ChangedAt": "2026-11-25T07:53:34.416071Z",
            "Recipient": "ada@example.org",
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
            "Tag": "digest",
            "Metadata": {},
        },
    )
    ada.refresh_from_db()
    assert ada.status == "unsubscribed"
    assert ada.events.get(kind="unsubscribed").detail["via"] == "postmark unsubscribe"


def test_an_event_for_a_row_left_sending_marks_it_sent(client, ada) -> None:
    from newsletter.models import Edition

    edition = Edition.objects.create(cadence="daily", date="2026-11-25")
    delivery = Delivery.objects.create(subscriber=ada, edition=edition, state=Delivery.State.SENDING)
    post(
        client,
        {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "Recipient": "ada@example.org",
            "Tag": "digest",
            "DeliveredAt": "2026-11-25T06:02:00.000Z",
            "Details": "Test delivery webhook details",
            "Metadata": {"delivery_id": str(delivery.pk)},
        },
    )
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and delivery.delivered_at is not None
    assert delivery.message_id == "883953f4-6105-42a2-a16a-77a8eac79483"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"RecordType": "Bounce", "Email": 42}', b"\xff\xfe"])
def test_malformed_payloads_get_a_400_and_change_nothing(client, ada, body: bytes) -> None:
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()
    ada.refresh_from_db()
    assert ada.status == "active"


def test_an_event_without_a_recipient_is_stored_and_touches_nobody(client, ada) -> None:
    assert post(client, {"RecordType": "Bounce", "Type": "HardBounce", "ID": 99}).status_code == 200
    assert TrackingEvent.objects.get().recipient == ""
    ada.refresh_from_db()
    assert ada.status == "active" and not Suppression.objects.exists()


def test_nul_characters_in_a_payload_are_stored_without_them(client, ada) -> None:
    payload = bounce(event_id=5, Description="bad\x00byte", Metadata={"k\x00": "v\x00"})
    assert post(client, payload).status_code == 200
    event = TrackingEvent.objects.get()
    assert "\x00" not in event.description and "\x00" not in json.dumps(event.raw)


def test_non_finite_numbers_in_a_payload_are_stored_as_null(client, ada) -> None:
    body = json.dumps(
        bounce(event_id=6, Extra=float("inf"))
    )  # json.dumps writes Infinity, as a sloppy sender might
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    assert client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=auth).status_code == 200
    assert TrackingEvent.objects.get().raw["Extra"] is None
