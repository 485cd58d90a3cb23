"""The preference centre: change, pause, resume, unsubscribe, export and erase, by signed link."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core import mail

from subscribers import services
from subscribers.models import ConsentRecord, LinkEmail, Subscriber, SubscriberEvent, Suppression
from subscribers.preferences import Preferences
from subscribers.tokens import Purpose, email_hash, make_token
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db


def manage_path(subscriber: Subscriber) -> str:
    return f"/manage/{make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)}/"


def prefs(**changes: object) -> dict[str, object]:
    data = {
        "topics": ["llm"],
        "keywords": "",
        "authors": "",
        "cadence": "daily",
        "timezone": "Europe/Paris",
        "send_hour": "7",
        "send_weekday": "0",
        "max_papers": "10",
    }
    data.update(changes)
    return data


def test_the_page_shows_current_preferences(client, active) -> None:
    response = client.get(manage_path(active))
    html = response.content.decode()
    assert response.status_code == 200
    assert "ada@example.org" in html
    assert '<input type="checkbox" name="topics" value="llm" id="id_topics_0" checked>' in html
    assert '<input type="checkbox" name="topics" value="reasoning" id="id_topics_1">' in html
    assert '<option value="Europe/Paris" selected>' in html


def test_saving_changes_preferences_and_logs_what_changed(client, post, active) -> None:
    url = manage_path(active)
    response = post(
        url,
        prefs(
            topics=["robotics", "agents"],
            keywords="grasping, -simulation",
            authors="Pieter Abbeel",
            cadence="weekly",
            send_weekday="4",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"{url}?done=saved"
    assert "Preferences saved." in client.get(response["Location"]).content.decode()
    active.refresh_from_db()
    assert sorted(active.topics.values_list("slug", flat=True)) == ["agents", "robotics"]
    assert (active.keywords, active.excluded_keywords, active.authors) == (
        ["grasping"],
        ["simulation"],
        ["Pieter Abbeel"],
    )
    assert (active.cadence, active.send_weekday) == ("weekly", 4)
    event = SubscriberEvent.objects.get(subscriber=active, kind="preferences_changed")
    assert event.detail["changed"]["topics"] == {"from": ["llm"], "to": ["agents", "robotics"]}
    assert "timezone" not in event.detail["changed"]


def test_invalid_preferences_are_refused_and_nothing_changes(post, active) -> None:
    response = post(manage_path(active), prefs(topics=[], keywords="", authors=""))
    assert response.status_code == 400
    assert "Choose at least one topic" in response.content.decode()
    assert list(active.topics.values_list("slug", flat=True)) == ["llm"]


def test_pause_and_resume(client, post, active) -> None:
    url = manage_path(active)
    assert post(url + "pause/")["Location"] == f"{url}?done=pause"
    active.refresh_from_db()
    assert active.status == Subscriber.Status.PAUSED
    assert "Resume digests" in client.get(url).content.decode()
    post(url + "resume/")
    active.refresh_from_db()
    assert active.status == Subscriber.Status.ACTIVE
    assert list(
        SubscriberEvent.objects.filter(kind__in=["paused", "resumed"])
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["paused", "resumed"]


def test_actions_need_a_post(client, active) -> None:
    assert client.get(manage_path(active) + "pause/").status_code == 405
    active.refresh_from_db()
    assert active.status == Subscriber.Status.ACTIVE


def test_unsubscribe_from_the_page_then_subscribe_again(client, post, active) -> None:
    url = manage_path(active)
    response = post(url + "unsubscribe/")
    assert response.status_code == 200 and "You're unsubscribed" in response.content.decode()
    active.refresh_from_db()
    assert active.status == Subscriber.Status.UNSUBSCRIBED
    assert "Subscribe again" in client.get(url).content.decode()
    post(url + "resubscribe/")
    assert mail.outbox[-1].subject == "Confirm your papermail subscription"
    post(link("confirm"))
    active.refresh_from_db()
    assert active.status == Subscriber.Status.ACTIVE
    assert list(active.topics.values_list("slug", flat=True)) == ["llm"]  # preferences kept


def test_export_downloads_everything_stored(post, active) -> None:
    response = post(manage_path(active) + "export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="papermail-data-')
    data = json.loads(response.content)
    assert data["email"] == "ada@example.org" and data["status"] == "active"
    assert data["preferences"]["topics"] == [{"slug": "llm", "name": "Large language models"}]
    [consent] = data["consent_records"]
    assert consent["submitted_ip"] == "203.0.113.7" and consent["confirmed_at"]
    assert [e["kind"] for e in data["events"]] == ["subscribed", "confirmation_sent", "confirmed"]
    [link_email] = data["link_emails"]
    assert (link_email["kind"], link_email["state"], link_email["attempts"]) == ("confirmation", "sent", 1)


def test_erase_asks_first_then_keeps_only_a_hash(client, post, active) -> None:
    url = manage_path(active)
    assert "Erase everything about ada@example.org?" in client.get(url + "erase/").content.decode()
    post(url + "erase/", {})  # without the confirmation field nothing happens
    assert Subscriber.objects.filter(pk=active.pk).exists()
    response = post(url + "erase/", {"confirm": "erase"})
    assert response.status_code == 200 and "Your data has been erased" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert not ConsentRecord.objects.exists() and not SubscriberEvent.objects.exists()
    assert not LinkEmail.objects.exists()
    suppression = Suppression.objects.get()
    assert suppression.email_hash == email_hash("ada@example.org") and suppression.reason == "erased"
    assert "ada@example.org" not in str(list(Suppression.objects.values()))
    assert client.get(url).status_code == 404  # the old link is dead


def test_an_erased_address_can_subscribe_again_by_confirming(signup, post, active) -> None:
    post(manage_path(active) + "erase/", {"confirm": "erase"})
    signup("ada@example.org")
    post(link("confirm"))
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("token", ["garbage-token-value", "a" * 60])
def test_a_forged_manage_link_shows_nothing(client, active, token: str) -> None:
    response = client.get(f"/manage/{token}/")
    assert response.status_code == 404
    assert "ada@example.org" not in response.content.decode()


def test_a_confirm_token_does_not_open_the_preference_centre(client, active) -> None:
    token = make_token(Purpose.CONFIRM, subscriber_id=active.pk, email=active.email, consent_id=1)
    assert client.get(f"/manage/{token}/").status_code == 404


def test_the_manage_link_from_a_later_email_works(client, signup, active) -> None:
    signup("ada@example.org")
    response = client.get(link("manage"))
    assert response.status_code == 200 and "Your papermail preferences" in response.content.decode()


def test_it_exports_every_preference_the_subscriber_set(post, active) -> None:
    post(manage_path(active), prefs(cadence="weekly", send_weekday="4", max_papers="20", keywords="a, -b"))
    data = json.loads(post(manage_path(active) + "export/").content)
    assert set(data["preferences"]) == set(Preferences.__dataclass_fields__)
    assert data["preferences"]["max_papers"] == 20
    assert (data["preferences"]["cadence"], data["preferences"]["send_weekday"]) == ("weekly", "Friday")
    assert (data["preferences"]["keywords"], data["preferences"]["excluded_keywords"]) == (["a"], ["b"])


def test_it_exports_why_an_address_is_no_longer_mailed(post, active) -> None:
    services.subscriber_suppress(email=active.email, reason=Suppression.Reason.HARD_BOUNCE)
    data = json.loads(post(manage_path(active) + "export/").content)
    assert (data["status"], data["suppressed_reason"]) == ("suppressed", "hard_bounce")


def _weekday_field(html: str) -> str:
    """Return the opening tag of the element that holds the weekday field."""
    [tag] = re.findall(
        r'<div [^>]*data-only-for-cadence="weekly"[^>]*>(?=\s*<label for="id_send_weekday")', html
    )
    return tag


def test_it_hides_the_weekday_from_daily_readers(client, active) -> None:
    assert " hidden" in _weekday_field(client.get(manage_path(active)).content.decode())


def test_it_shows_the_weekday_to_weekly_readers(client, active) -> None:
    Subscriber.objects.filter(pk=active.pk).update(cadence="weekly")
    assert " hidden" not in _weekday_field(client.get(manage_path(active)).content.decode())


def test_switching_to_weekly_without_scripts_keeps_the_weekday_and_then_shows_it(
    client, post, active
) -> None:
    Subscriber.objects.filter(pk=active.pk).update(send_weekday=3)
    response = post(manage_path(active), prefs(cadence="weekly", send_weekday="3"))
    active.refresh_from_db()
    assert (active.cadence, active.send_weekday) == ("weekly", 3)
    html = client.get(response["Location"]).content.decode()
    assert " hidden" not in _weekday_field(html) and '<option value="3" selected>Thursday</option>' in html


def test_the_pages_load_the_script_that_shows_the_weekday_for_weekly(client, active) -> None:
    for html in (
        client.get(manage_path(active)).content.decode(),
        client.get("/subscribe/").content.decode(),
    ):
        assert 'src="/static/js/cadence.js"' in html and "<script>" not in html


def _subscription_section(client, subscriber: Subscriber, url: str = "") -> str:
    """Return the words of the page's "Your subscription" part (up to the next heading)."""
    html = client.get(url or manage_path(subscriber)).content.decode()
    start = html.index(">Your subscription</h2>")
    return " ".join(html[start : html.index("<h2", start)].split())


def test_it_tells_an_unsubscribed_reader_so_and_offers_to_subscribe_again(client, post, active) -> None:
    url = manage_path(active)
    post(url + "unsubscribe/")
    section = _subscription_section(client, active, url)
    assert "You are unsubscribed" in section
    assert f'action="{url}resubscribe/"' in section and "Subscribe again" in section


def test_it_tells_an_active_reader_what_comes_and_when(client, active) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC), tick=False):
        section = _subscription_section(client, active)
    assert "You receive a daily digest at 07:00 (Europe/Paris time)" in section
    assert "Your next digest is due on Wednesday 4 November at 07:00" in section
    assert "Pause digests" in section and "Unsubscribe" in section


def test_it_tells_a_paused_reader_that_digests_are_paused(client, post, active) -> None:
    post(manage_path(active) + "pause/")
    section = _subscription_section(client, active)
    assert "Your digests are paused" in section and "Resume digests" in section


def test_it_tells_a_suppressed_reader_why_nothing_is_sent(client, active) -> None:
    services.subscriber_suppress(email=active.email, reason=Suppression.Reason.HARD_BOUNCE)
    section = _subscription_section(client, active)
    assert "We stopped mailing this address" in section and "bounced" in section
    assert "Subscribe again" in section


def test_it_tells_a_pending_reader_to_confirm(client, signup) -> None:
    signup()
    section = _subscription_section(client, Subscriber.objects.get())
    assert "waiting for you to confirm" in section and "Send the confirmation link again" in section


def test_a_pending_reader_asking_again_gets_the_link_of_their_own_sign_up(client, signup, post) -> None:
    signup(keywords="reasoning")
    pending = Subscriber.objects.get()
    mail.outbox.clear()
    post(manage_path(pending) + "resubscribe/")
    assert [m.subject for m in mail.outbox] == ["Confirm your papermail subscription"]
    post(link("confirm"))
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.ACTIVE and pending.keywords == ["reasoning"]
    assert ConsentRecord.objects.count() == 1
