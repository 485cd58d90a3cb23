"""Double opt-in: only a POST confirms; tokens expire, can't be forged or used for another purpose."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from subscribers.models import ConsentRecord, Subscriber, SubscriberEvent, Suppression
from subscribers.tokens import Purpose, email_hash, make_token
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db


def test_opening_the_link_shows_a_button_and_confirms_nothing(client, signup) -> None:
    signup()
    response = client.get(link("confirm"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Yes, subscribe me" in html and 'method="post"' in html
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_the_post_confirms_applies_preferences_and_records_where_from(signup, post) -> None:
    signup(keywords="reasoning, -robotics", authors="Yann LeCun", cadence="weekly", send_hour="6")
    response = post(link("confirm"), REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="Confirming browser")
    assert response.status_code == 200
    assert "You're subscribed" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.ACTIVE and subscriber.confirmed_at is not None
    assert subscriber.keywords == ["reasoning"] and subscriber.excluded_keywords == ["robotics"]
    assert subscriber.authors == ["Yann LeCun"]
    assert (subscriber.cadence, subscriber.send_hour, subscriber.timezone) == ("weekly", 6, "Europe/Paris")
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["llm"]
    consent = ConsentRecord.objects.get()
    assert consent.confirmed_ip == "198.51.100.9" and consent.confirmed_user_agent == "Confirming browser"
    assert consent.confirmed_at == subscriber.confirmed_at


def test_a_replayed_confirmation_changes_nothing(signup, post) -> None:
    signup()
    url = link("confirm")
    post(url)
    again = post(url)
    assert again.status_code == 200 and "Already confirmed" in again.content.decode()
    assert SubscriberEvent.objects.filter(kind="confirmed").count() == 1


def test_an_expired_link_offers_a_new_one(client, signup, post) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC), tick=False):
        signup()
        url = link("confirm")
    with time_machine.travel(dt.datetime(2026, 11, 9, 12, tzinfo=dt.UTC), tick=False):
        page = client.get(url)
        assert page.status_code == 410 and "This link has expired" in page.content.decode()
        assert post(url).status_code == 410  # cannot confirm with it
        assert Subscriber.objects.get().status == Subscriber.Status.PENDING
        mail.outbox.clear()
        response = post(url + "resend/")
        assert response["Location"] == "/subscribe/check-your-inbox/"
        assert len(mail.outbox) == 1
        assert post(link("confirm")).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_a_link_is_still_good_just_before_it_expires(signup, post) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC), tick=False):
        signup()
        url = link("confirm")
    with time_machine.travel(dt.datetime(2026, 11, 8, 11, 59, tzinfo=dt.UTC), tick=False):
        assert post(url).status_code == 200


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t[1:], lambda t: t.replace(":", ":A", 1)]
)
def test_a_tampered_link_is_refused_and_offers_a_new_one(client, signup, post, mangle) -> None:
    signup()
    token = link("confirm").split("/")[2]
    url = f"/confirm/{mangle(token)}/"
    page = client.get(url)
    assert page.status_code in (400, 404)
    assert post(url).status_code in (400, 404)
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    if page.status_code == 400:
        assert "This link isn't valid" in page.content.decode()
        assert 'action="/subscribe/new-link/"' in page.content.decode()


def test_asking_for_a_new_link_by_address_looks_the_same_for_anyone(post, signup) -> None:
    signup("ada@example.org")
    mail.outbox.clear()
    known = post("/subscribe/new-link/", {"email": "ada@example.org"})
    unknown = post("/subscribe/new-link/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]


def test_a_token_for_another_purpose_is_refused(client, signup, post) -> None:
    signup()
    subscriber = Subscriber.objects.get()
    for purpose in (Purpose.UNSUBSCRIBE, Purpose.MANAGE):
        token = make_token(purpose, subscriber_id=subscriber.pk, email=subscriber.email)
        assert post(f"/confirm/{token}/").status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_confirming_lifts_a_suppression(signup, post) -> None:
    # Only an erasure can be lifted so: a bounced address is sent no confirmation (test_suppressed.py).
    Suppression.objects.create(email_hash=email_hash("ada@example.org"), reason="erased")
    signup("ada@example.org")
    assert Suppression.objects.exists()
    post(link("confirm"))
    assert not Suppression.objects.exists()
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def _confirmed_page(signup, post, when: dt.datetime, **fields: object) -> str:
    signup(**fields)
    with time_machine.travel(when, tick=False):
        response = post(link("confirm"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_it_names_the_first_daily_delivery_in_the_readers_time_zone(signup, post) -> None:
    html = _confirmed_page(signup, post, dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC), send_hour="7")
    assert (
        "Your first digest is due on Wednesday 4 November at 07:00 (Europe/Paris time), then every day"
        in html
    )
    assert "the next delivery time you chose" not in html


def test_it_names_the_day_of_the_first_weekly_delivery(signup, post) -> None:
    html = _confirmed_page(
        signup,
        post,
        dt.datetime(2026, 11, 6, 23, tzinfo=dt.UTC),  # Saturday 08:00 in Tokyo
        cadence="weekly",
        send_weekday="4",
        send_hour="18",
        timezone="Asia/Tokyo",
    )
    assert (
        "Your first digest is due on Friday 13 November at 18:00 (Asia/Tokyo time), then every Friday" in html
    )


def test_it_says_the_first_digest_goes_out_shortly_just_after_the_delivery_time(signup, post) -> None:
    html = _confirmed_page(signup, post, dt.datetime(2026, 11, 3, 7, 30, tzinfo=dt.UTC), send_hour="7")
    assert "Your first digest goes out shortly: your delivery time, 07:00 (Europe/Paris time)" in html
