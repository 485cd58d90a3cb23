"""HTTP details of every page: HEAD wherever GET is answered (and it changes nothing), Retry-After on
each 429, and no shared cache keeps the personal feed."""

from __future__ import annotations

import pytest

from newsletter.models import Delivery
from subscribers.models import ConsentRecord, Feedback, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.factories import SubscriberFactory
from tests.newsletter.test_digest_email import path_of, send

pytestmark = pytest.mark.django_db
SIGNUP = {"topics": ["llm"], "cadence": "daily", "timezone": "UTC", "send_hour": "7"}


@pytest.fixture
def reader(llm, papers) -> Subscriber:
    return SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning"])


@pytest.fixture
def urls(reader, default_topics) -> dict[str, str]:
    """Every page that answers GET, with the tokens it needs (after one digest was sent to the reader)."""
    message = send()
    pending = SubscriberFactory(email="bob@example.org", status="pending")
    consent = ConsentRecord.objects.create(subscriber=pending, form_id="f", wording_version="v", wording="w")
    confirm = make_token(
        Purpose.CONFIRM, subscriber_id=pending.pk, email=pending.email, consent_id=consent.pk
    )
    paper_id = Delivery.objects.get().items.first().paper_id
    return {
        "home": "/",
        "healthz": "/healthz",
        "subscribe": "/subscribe/",
        "check_inbox": "/subscribe/check-your-inbox/",
        "confirm": f"/confirm/{confirm}/",
        "manage": path_of(message, "manage"),
        "erase": path_of(message, "manage") + "erase/",
        "unsubscribe": path_of(message, "unsubscribe"),
        "digest": path_of(message, "digest"),
        "feedback": f"{path_of(message, 'digest')}feedback/{paper_id}/more/",
        "feed": path_of(message, "feed"),
    }


def test_it_answers_head_wherever_it_answers_get(client, urls) -> None:
    for name, url in urls.items():
        got = client.get(url).status_code
        assert got != 405, name
        assert client.head(url).status_code == got, name


def test_a_head_request_changes_nothing(client, urls, reader) -> None:
    for name in ("confirm", "unsubscribe", "feedback", "erase"):
        client.head(urls[name])
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert Subscriber.objects.get(email="bob@example.org").status == Subscriber.Status.PENDING
    assert not Feedback.objects.exists()


def test_a_method_no_page_takes_is_still_refused(client, urls) -> None:
    assert client.put(urls["subscribe"]).status_code == 405
    assert client.delete(urls["feed"]).status_code == 405


def test_no_shared_cache_may_keep_the_personal_feed(client, urls) -> None:
    response = client.get(urls["feed"])
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


def test_every_429_says_when_to_try_again(client, settings, default_topics) -> None:
    settings.RATE_SIGNUPS_PER_IP = "1/h"
    signups = [client.post("/subscribe/", {"email": f"p{n}@example.org", **SIGNUP}) for n in range(2)]
    new_links = [client.post("/subscribe/new-link/", {"email": "p0@example.org"}) for _ in range(2)]
    for first, second in (signups, new_links):
        assert first.status_code == 302 and "Retry-After" not in first
        assert second.status_code == 429
        assert 1 <= int(second["Retry-After"]) <= 3600
