"""Provider webhooks (Postmark payload shapes through Anymail): authenticated, idempotent, acted on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from anymail.signals import AnymailTrackingEvent

from newsletter import tracking, webhooks
from newsletter.models import Delivery, TrackingEvent
from subscribers.models import Subscriber, Suppression
from subscribers.tokens import email_hash
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
URL = "/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def postmark(webhook_provider) -> None:
    webhook_provider("postmark")


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


# --- Only the configured provider's endpoints exist, and only with authentication configured ----------


def test_it_refuses_a_forged_bounce_when_no_secret_is_configured(client, settings, ada) -> None:
    settings.ANYMAIL = {}
    forged = {"RecordType": "Bounce", "Type": "HardBounce", "ID": 1, "Email": "ada@example.org"}
    response = client.post(URL, json.dumps(forged), content_type="application/json")
    assert response.status_code == 403
    assert not TrackingEvent.objects.exists() and not Suppression.objects.exists()
    ada.refresh_from_db()
    assert ada.status == "active"


@pytest.mark.parametrize("secret", ["", [], ["hook:s3cret-value", ""]])
def test_it_refuses_every_post_when_the_secret_is_empty(client, settings, ada, secret) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret}
    assert post(client, bounce()).status_code == 403
    assert not TrackingEvent.objects.exists()


def test_other_providers_endpoints_do_not_exist(client, ada) -> None:
    bob = SubscriberFactory(email="bob@example.org")
    sendgrid_list = [
        {"email": who.email, "event": "bounce", "type": "bounce", "sg_event_id": who.email, "timestamp": 1}
        for who in (ada, bob)
    ]
    assert (
        client.post("/anymail/sendgrid/tracking/", json.dumps(sendgrid_list), content_type="application/json")
    ).status_code == 404
    for path in ("/anymail/postal/tracking/", "/anymail/mandrill/", "/anymail/mailgun/tracking/"):
        assert client.post(path, "{}", content_type="application/json").status_code == 404
    assert not TrackingEvent.objects.exists()
    assert set(Subscriber.objects.values_list("status", flat=True)) == {"active"}


def test_inbound_endpoints_do_not_exist(client) -> None:
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    for path in ("/anymail/postmark/inbound/", "/anymail/sendgrid/inbound/"):
        response = client.post(path, "{}", content_type="application/json", HTTP_AUTHORIZATION=auth)
        assert response.status_code == 404


def test_with_no_provider_no_webhook_exists(client, webhook_provider, ada) -> None:
    webhook_provider("")
    assert post(client, bounce()).status_code == 404
    assert not TrackingEvent.objects.exists()


def test_a_deeply_nested_body_gets_a_400_and_changes_nothing(client, ada) -> None:
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    for body in ("[" * 100_000, '{"RecordType": "Bounce", "Email": "ada@example.org", "x": ' + "[" * 100_000):
        response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
        assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


def mailgun_post(client, key: bytes, recipient: str = "ada@example.org"):
    timestamp, token = "1764050000", "a" * 50
    signature = hmac.new(key, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "recipient": recipient,
            "timestamp": 1764050000.0,
            "id": "mailgun-event-1",
        },
    }
    return client.post("/anymail/mailgun/tracking/", json.dumps(body), content_type="application/json")


def test_mailgun_posts_signed_with_its_signing_key_are_accepted_without_a_webhook_secret(
    client, settings, webhook_provider, ada
) -> None:
    webhook_provider("mailgun")
    settings.ANYMAIL = {"MAILGUN_API_KEY": "api-key", "MAILGUN_WEBHOOK_SIGNING_KEY": "signing-key"}
    assert mailgun_post(client, b"guessed-key").status_code == 400
    assert not TrackingEvent.objects.exists()
    assert mailgun_post(client, b"signing-key").status_code == 200
    ada.refresh_from_db()
    assert (ada.status, ada.suppressed_reason) == ("suppressed", "hard_bounce")


def test_mailgun_without_a_signing_key_refuses_instead_of_failing(client, settings, webhook_provider) -> None:
    webhook_provider("mailgun")
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret-value"}  # Anymail requires a signing key for Mailgun
    assert mailgun_post(client, b"").status_code == 403
    assert not TrackingEvent.objects.exists()


def test_an_empty_mailgun_signing_key_is_no_key(client, settings, webhook_provider, ada) -> None:
    webhook_provider("mailgun")
    # Anymail would check signatures with the empty key, which anyone can compute.
    settings.ANYMAIL = {"MAILGUN_API_KEY": "api-key", "MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    assert mailgun_post(client, b"").status_code == 403
    ada.refresh_from_db()
    assert ada.status == "active" and not TrackingEvent.objects.exists()


@pytest.mark.parametrize(
    ("provider", "anymail", "authenticated"),
    [
        ("postmark", {}, False),
        ("postmark", {"WEBHOOK_SECRET": "u:p"}, True),
        ("postmark", {"WEBHOOK_SECRET": ["u:p", "u2:p2"]}, True),
        ("amazon_ses", {"WEBHOOK_SECRET": "u:p"}, True),
        ("sparkpost", {"SPARKPOST_API_KEY": "k"}, False),
        ("mailgun", {"MAILGUN_API_KEY": "k"}, True),  # Anymail's fallback for the signing key
        ("mailgun", {"WEBHOOK_SECRET": "u:p"}, False),
        ("mandrill", {"WEBHOOK_SECRET": "u:p"}, False),
        ("mandrill", {"MANDRILL_WEBHOOK_KEY": "k"}, True),
        ("postal", {"POSTAL_WEBHOOK_KEY": "k"}, True),
        ("unisender_go", {"UNISENDER_GO_API_KEY": "k"}, True),
        ("mailersend", {"MAILERSEND_SIGNING_SECRET": "k"}, True),
        ("mailersend", {"MAILERSEND_INBOUND_SECRET": "k", "WEBHOOK_SECRET": "u:p"}, False),
        ("sendgrid", {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": "k"}, True),
        ("sendgrid", {"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": ""}, False),
        ("resend", {"RESEND_SIGNING_SECRET": "k"}, True),
        ("mailtrap", {"MAILTRAP_TRACKING_SECRET": "k"}, True),
        ("mailtrap", {"MAILTRAP_INBOUND_SECRET": "k"}, False),
        ("brevo", {"WEBHOOK_SECRET": "u:p"}, True),
    ],
)
def test_it_knows_what_authenticates_each_providers_webhook(
    settings, provider, anymail, authenticated
) -> None:
    settings.ANYMAIL = anymail
    assert (webhooks.tracking_webhook_auth_missing(provider) is None) is authenticated


@pytest.mark.parametrize("depth", [50, 500, 900, 990, 2_000])
def test_nesting_inside_a_genuine_event_is_stored_or_refused_whole(client, ada, depth) -> None:
    payload = bounce(event_id=depth)
    body = json.dumps(payload)[:-1] + ', "Deep": ' + "[" * depth + "]" * depth + "}"
    auth = "Basic " + base64.b64encode(b"hook:s3cret-value").decode()
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    ada.refresh_from_db()
    if response.status_code == 200:
        assert TrackingEvent.objects.get().raw["Deep"] is not None and ada.status == "suppressed"
    else:
        assert response.status_code == 400
        assert not TrackingEvent.objects.exists() and ada.status == "active"


def test_a_provider_can_check_the_url_before_its_signing_key_is_set(
    client, settings, webhook_provider
) -> None:
    webhook_provider("mandrill")  # Mandrill shows the webhook's key only once the URL is added
    settings.ANYMAIL = {}
    assert client.head("/anymail/mandrill/").status_code == 200
    assert client.post("/anymail/mandrill/", {"mandrill_events": "[]"}).status_code == 403
    assert client.get("/anymail/mandrill/").status_code == 403


# --- Only real bounces count ---------------------------------------------------------------------------


def test_deferrals_never_suppress(client, ada) -> None:
    for event_id, kind in enumerate(["Transient", "DnsError", "Transient", "OpenRelayTest"]):
        assert post(client, bounce(kind, event_id=event_id)).status_code == 200
    ada.refresh_from_db()
    assert ada.status == "active" and not Suppression.objects.exists()
    assert set(TrackingEvent.objects.values_list("event_type", "bounce")) == {("deferred", "")}


@pytest.mark.parametrize("kind", ["Blocked", "DMARCPolicy", "Unconfirmed", "ManuallyDeactivated"])
def test_refusals_for_the_senders_policy_or_content_do_not_suppress(client, ada, kind) -> None:
    post(client, bounce(kind, event_id=1))
    post(client, bounce(kind, event_id=2))
    ada.refresh_from_db()
    assert ada.status == "active" and not Suppression.objects.exists()


def test_an_address_the_provider_calls_invalid_is_suppressed(client, ada) -> None:
    post(client, bounce("BadEmailAddress"))
    ada.refresh_from_db()
    assert (ada.status, ada.suppressed_reason) == ("suppressed", "hard_bounce")


def event(
    event_type: str, reject_reason: str | None = None, esp_event: object = None
) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(
        event_type=event_type, reject_reason=reject_reason, esp_event=esp_event, recipient="ada@example.org"
    )


@pytest.mark.parametrize(
    ("tracking_event", "expected"),
    [
        (event("deferred"), ""),
        (event("deferred", "timed_out"), ""),
        (event("queued"), ""),
        (event("delivered"), ""),
        (event("complained", "spam"), ""),
        (event("unsubscribed", "unsubscribed"), ""),
        (event("failed"), ""),
        (event("autoresponded"), ""),
        (event("bounced", "bounced", {"RecordType": "Bounce", "Type": "HardBounce"}), "hard"),
        (event("bounced", "bounced", {"RecordType": "Bounce", "Type": "SoftBounce"}), "soft"),
        (event("bounced", "timed_out", {}), "soft"),
        (event("bounced", "bounced", {"bounce": {"bounceType": "Permanent"}}), "hard"),  # Amazon SES
        (event("bounced", "bounced", {"bounce": {"bounceType": "Transient"}}), "soft"),  # Amazon SES
        (event("bounced", "bounced", {"event": "soft_bounce"}), "soft"),  # Brevo, Mandrill
        (event("bounced", "bounced", {"event": "hard_bounce"}), "hard"),  # Brevo, Mandrill
        (event("bounced", "bounced", {"data": {"type": "soft_bounced"}}), "soft"),  # MailerSend
        (event("bounced", "bounced", {"event": "bounce", "hard_bounce": False}), "soft"),  # Mailjet
        (event("bounced", "bounced", {"event": "bounce", "hard_bounce": True}), "hard"),  # Mailjet
        (event("bounced", "other", {"RecordType": "Bounce", "Type": "VirusNotification"}), "soft"),
        (event("bounced", "blocked", {}), ""),
        (event("bounced", "spam", {}), ""),
        (event("rejected", "invalid"), "hard"),
        (event("rejected", "bounced"), "hard"),
        (event("rejected", "timed_out"), "soft"),
        (event("rejected", "blocked"), ""),
        (event("rejected", "spam"), ""),
        (event("rejected", "unsubscribed"), ""),
        (event("rejected", "other"), ""),
        (event("rejected"), ""),
    ],
)
def test_only_a_refusal_of_the_address_is_a_bounce(tracking_event, expected) -> None:
    assert tracking.bounce_class(tracking_event) == expected


def test_deferrals_stored_as_soft_bounces_before_stop_counting(ada) -> None:
    import importlib

    from django.apps import apps

    def stored(event_id: str, event_type: str, reject_reason: str, bounce: str) -> None:
        TrackingEvent.objects.create(
            provider="postmark",
            event_id=event_id,
            event_type=event_type,
            reject_reason=reject_reason,
            bounce=bounce,
            recipient="ada@example.org",
        )

    stored("1", "deferred", "", "soft")
    stored("2", "rejected", "blocked", "hard")
    stored("3", "rejected", "invalid", "hard")
    stored("4", "bounced", "bounced", "soft")
    migration = importlib.import_module("newsletter.migrations.0008_deferrals_are_not_bounces")
    migration.clear_non_bounces(apps, None)
    assert dict(TrackingEvent.objects.values_list("event_id", "bounce")) == {
        "1": "",
        "2": "",
        "3": "hard",
        "4": "soft",
    }
