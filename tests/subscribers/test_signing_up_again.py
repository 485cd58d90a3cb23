"""Signing up again: the new choices wait with their sign-up and apply only when its link is confirmed;
the emails say what will happen, and the page after the form is the same for everyone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from newsletter import link_emails
from subscribers import services, signup
from subscribers.models import ConsentRecord, Subscriber
from subscribers.services import RequestInfo
from tests.subscribers.conftest import link, links_in

pytestmark = pytest.mark.django_db


def words(message: mail.EmailMessage) -> tuple[str, str]:
    """Return the text and HTML parts of ``message`` with whitespace collapsed."""
    return " ".join(message.body.split()), " ".join(message.alternatives[0][0].split())


def topics_of(subscriber: Subscriber) -> list[str]:
    return sorted(subscriber.topics.values_list("slug", flat=True))


def test_the_page_after_the_form_says_what_happens_next(client, signup) -> None:
    page = " ".join(client.get(signup()["Location"]).content.decode().split())
    assert "Nothing changes until you open it" in page
    assert "already subscribed, the email asks you to confirm the new choices" in page


def test_the_confirmation_email_sums_up_the_choices_and_its_page_lists_them(client, signup) -> None:
    signup(keywords="reasoning, -robotics", authors="Yann LeCun", cadence="weekly", send_weekday="4")
    for part in words(mail.outbox[0]):
        assert "Topics: Large language models" in part or "Large language models</td>" in part
        assert "Weekly, on Friday at 07:00 (Europe/Paris time)" in part
        assert "1 keyword, 1 excluded keyword" in part and "1 author" in part
    page = " ".join(client.get(link("confirm")).content.decode().split())
    for shown in (
        "Large language models",
        "reasoning",
        "robotics",
        "Yann LeCun",
        "Weekly, on Friday at 07:00",
    ):
        assert shown in page, shown


def test_what_a_stranger_types_is_not_mailed_to_the_address(signup) -> None:
    signup(keywords="visit evil.example now", authors="Call +1 555 0100")
    for part in words(mail.outbox[0]):
        assert "evil.example" not in part and "555" not in part


def test_an_active_subscriber_is_asked_to_confirm_the_new_choices(active, signup) -> None:
    signup("ada@example.org", topics=["robotics"], send_hour="9")
    [message] = mail.outbox
    assert message.subject == "Confirm the new choices for your papermail subscription"
    for part in words(message):
        assert "already subscribed" in part and "Nothing has changed yet" in part
        assert "Robotics" in part and "09:00" in part  # the new choices
        assert "Large language models" in part and "07:00" in part  # the current ones
    kinds = sorted(path.split("/")[1] for path in links_in(message))
    assert kinds == ["confirm", "manage"]
    active.refresh_from_db()
    assert topics_of(active) == ["llm"] and active.send_hour == 7  # nothing applies before confirming


def test_confirming_applies_the_new_choices_and_keeps_what_the_form_does_not_ask(
    client, active, signup, post
) -> None:
    Subscriber.objects.filter(pk=active.pk).update(max_papers=20)
    signup("ada@example.org", topics=["robotics"], send_hour="9")
    page = client.get(link("confirm"))
    html = " ".join(page.content.decode().split())
    assert "Apply these choices" in html and "Robotics" in html
    active.refresh_from_db()
    assert topics_of(active) == ["llm"]  # opening the link changes nothing
    with time_machine.travel(dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC), tick=False):
        done = " ".join(post(link("confirm")).content.decode().split())
    assert "Your new choices are saved" in done
    assert "Your next digest is due on Wednesday 4 November at 09:00 (Europe/Paris time)" in done
    active.refresh_from_db()
    assert (topics_of(active), active.send_hour, active.max_papers) == (["robotics"], 9, 20)
    assert active.status == Subscriber.Status.ACTIVE


def test_a_paused_subscriber_is_told_confirming_resumes_digests(active, signup, post) -> None:
    services.subscriber_pause(subscriber=active, request=RequestInfo())
    signup("ada@example.org", topics=["robotics"])
    for part in words(mail.outbox[-1]):
        assert "Your digests are paused" in part and "resumes them" in part
    post(link("confirm"))
    active.refresh_from_db()
    assert (active.status, topics_of(active)) == (Subscriber.Status.ACTIVE, ["robotics"])


def test_signing_up_again_with_the_same_choices_only_sends_the_preferences_link(active, signup) -> None:
    signup("ada@example.org")
    [message] = mail.outbox
    assert message.subject == "Your papermail subscription"
    assert "These are already your choices" in words(message)[0]
    assert [path.split("/")[1] for path in links_in(message)] == ["manage"]


def test_a_stranger_cannot_change_an_active_subscribers_choices(client, active, signup, post) -> None:
    signup("ada@example.org", topics=["robotics"], keywords="spam")  # the stranger's form
    stranger_link = link("confirm")
    post("/subscribe/new-link/", {"email": "ada@example.org"})  # and every other way in
    post(link("manage") + "resubscribe/")
    client.get(stranger_link)
    active.refresh_from_db()
    assert topics_of(active) == ["llm"] and active.keywords == []
    assert ConsentRecord.objects.filter(subscriber=active, confirmed_at__isnull=True).count() == 1


def test_the_newest_confirmed_sign_up_wins_whatever_order_the_links_are_opened(client, signup, post) -> None:
    signup(topics=["llm"])
    first = link("confirm")
    signup(topics=["robotics"])
    second = link("confirm")
    assert "Large language models" in words(mail.outbox[0])[0] and "Robotics" in words(mail.outbox[1])[0]
    post(second)
    subscriber = Subscriber.objects.get()
    assert topics_of(subscriber) == ["robotics"]
    late = " ".join(post(first).content.decode().split())
    assert "A newer sign-up was confirmed" in late
    assert topics_of(subscriber) == ["robotics"]
    assert "A newer sign-up was confirmed" in " ".join(client.get(first).content.decode().split())


def test_the_older_link_applies_its_choices_until_the_newer_one_is_confirmed(signup, post) -> None:
    signup(topics=["llm"])
    first = link("confirm")
    signup(topics=["robotics"])
    second = link("confirm")
    post(first)
    subscriber = Subscriber.objects.get()
    assert topics_of(subscriber) == ["llm"]
    post(second)
    assert topics_of(subscriber) == ["robotics"]


def test_an_older_confirmation_still_owed_is_not_sent_after_a_newer_one_is_confirmed(client, post) -> None:
    data = {"topics": ["llm"], "cadence": "daily", "timezone": "UTC", "send_hour": "7"}
    client.post("/subscribe/", {"email": "ada@example.org", **data})
    client.post("/subscribe/", {"email": "ada@example.org", **data, "topics": ["robotics"]})
    older, newer = ConsentRecord.objects.order_by("pk")
    subscriber = older.subscriber
    signup.subscriber_confirm(subscriber=subscriber, consent_id=newer.pk, request=RequestInfo())
    assert link_emails.link_emails_sweep() == 0
    assert not mail.outbox


def test_an_expired_link_to_new_choices_brings_the_preferences_link(active, signup, post) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC), tick=False):
        signup("ada@example.org", topics=["robotics"])
        url = link("confirm")
    with time_machine.travel(dt.datetime(2026, 11, 9, 12, tzinfo=dt.UTC), tick=False):
        mail.outbox.clear()
        assert post(url + "resend/")["Location"] == "/subscribe/check-your-inbox/"
    [message] = mail.outbox
    assert message.subject == "Your papermail subscription" and link("manage", message)
