"""Form input a browser would not send but a person or a script can: the same topic twice."""

from __future__ import annotations

import pytest

from subscribers.models import ConsentRecord, Subscriber, SubscriberEvent
from subscribers.tokens import Purpose, make_token
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db


def test_a_topic_sent_twice_on_sign_up_is_kept_once(signup, post) -> None:
    assert signup("ada@example.org", topics=["llm", "llm", "agents", "llm"]).status_code == 302
    assert ConsentRecord.objects.get().requested_preferences["topics"] == ["agents", "llm"]
    post(link("confirm"))
    topics = Subscriber.objects.get().topics.values_list("slug", flat=True)
    assert sorted(topics) == ["agents", "llm"]


def test_a_topic_sent_twice_in_the_preference_centre_is_kept_once(post, active) -> None:
    token = make_token(Purpose.MANAGE, subscriber_id=active.pk, email=active.email)
    data = {
        "topics": ["llm", "llm"],
        "keywords": "",
        "authors": "",
        "cadence": "daily",
        "timezone": "Europe/Paris",
        "send_hour": "7",
        "send_weekday": "0",
        "max_papers": "10",
    }
    response = post(f"/manage/{token}/", data)
    assert response.status_code == 302
    assert list(active.topics.values_list("slug", flat=True)) == ["llm"]
    assert not SubscriberEvent.objects.filter(kind="preferences_changed").exists()  # nothing changed
