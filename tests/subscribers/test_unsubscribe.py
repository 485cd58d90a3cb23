"""RFC 8058 one-click unsubscribe: POST without cookies or CSRF, 200 and no redirect; GET only asks."""

from __future__ import annotations

import pytest
from django.test import Client

from subscribers.models import Subscriber, SubscriberEvent
from subscribers.services import unsubscribe_headers

pytestmark = pytest.mark.django_db


def unsubscribe_path(subscriber: Subscriber) -> str:
    header = unsubscribe_headers(subscriber=subscriber)["List-Unsubscribe"]
    return header.removeprefix("<https://papers.example.org").removesuffix(">")


def test_the_headers_follow_rfc_8058(active) -> None:
    headers = unsubscribe_headers(subscriber=active)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    value = headers["List-Unsubscribe"]
    assert value.startswith("<https://papers.example.org/unsubscribe/") and value.endswith("/>")
    assert "," not in value and " " not in value


def test_a_get_shows_a_button_and_unsubscribes_nobody(client, active) -> None:
    response = client.get(unsubscribe_path(active))
    assert response.status_code == 200 and 'method="post"' in response.content.decode()
    active.refresh_from_db()
    assert active.status == Subscriber.Status.ACTIVE


@pytest.mark.parametrize("multipart", [False, True])
def test_one_click_post_form_or_multipart(active, multipart: bool) -> None:
    provider = Client(enforce_csrf_checks=True)  # like a mailbox provider: no cookie, no CSRF token
    if multipart:
        response = provider.post(unsubscribe_path(active), {"List-Unsubscribe": "One-Click"})
    else:
        response = provider.post(
            unsubscribe_path(active),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200  # not a redirect
    active.refresh_from_db()
    assert active.status == Subscriber.Status.UNSUBSCRIBED and active.unsubscribed_at is not None
    assert SubscriberEvent.objects.get(kind="unsubscribed").detail["via"] == "one-click"


def test_the_page_button_unsubscribes_too(client, active) -> None:
    response = client.post(unsubscribe_path(active))
    assert response.status_code == 200 and "You're unsubscribed" in response.content.decode()
    active.refresh_from_db()
    assert active.status == Subscriber.Status.UNSUBSCRIBED


def test_unsubscribing_twice_is_harmless(client, active) -> None:
    client.post(unsubscribe_path(active))
    assert client.post(unsubscribe_path(active)).status_code == 200
    assert SubscriberEvent.objects.filter(kind="unsubscribed").count() == 1


def test_a_forged_unsubscribe_link_changes_nothing(client, active) -> None:
    path = unsubscribe_path(active)
    forged = path[:-5] + "AAAA/"
    assert client.post(forged, {"List-Unsubscribe": "One-Click"}).status_code == 404
    active.refresh_from_db()
    assert active.status == Subscriber.Status.ACTIVE


def test_a_pending_subscriber_can_unsubscribe_too(client, signup) -> None:
    signup("pending@example.org")
    pending = Subscriber.objects.get(email="pending@example.org")
    client.post(unsubscribe_path(pending), {"List-Unsubscribe": "One-Click"})
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.UNSUBSCRIBED
