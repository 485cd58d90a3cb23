"""A person subscribes on the home page, confirms from the email, changes their choices, leaves, and
asks for a new link from a broken one."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from newsletter.link_emails import link_emails_sweep
from subscribers.models import Subscriber
from tests.browser.conftest import shot
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db(transaction=True)


def site_link(message: mail.EmailMessage, kind: str, base: str) -> str:
    for word in message.body.split():
        if word.startswith(f"{base}/{kind}/"):
            return word
    raise AssertionError(f"no /{kind}/ link in {message.body!r}")


def test_subscribe_confirm_manage_and_unsubscribe_in_a_real_browser(
    default_topics, browser_page, live_server
) -> None:
    page, console_errors = browser_page
    PaperFactory(title="Self-Correcting Chain-of-Thought via Verifier-Guided Backtracking", upvotes=142)

    # 1. The home page asks for an address; the sign-up form takes it and asks the rest.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Get trending papers in your email inbox!")).to_be_visible()
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/?email=grace%40example.org")
    assert page.locator("select[name=timezone]").input_value() == "Europe/Berlin"  # from the browser
    shot(page, "01-home")
    expect(page.get_by_label("Email address")).to_have_value("grace@example.org")
    page.get_by_label("Large language models").check()
    page.get_by_label("Keywords").fill('reasoning, "state space model", -robotics')
    weekday = page.locator("select[name=send_weekday]")
    expect(weekday).to_be_hidden()  # daily is chosen: no day to pick
    page.get_by_label("Weekly").check()
    expect(weekday).to_be_visible()
    page.get_by_label("Daily").check()
    expect(weekday).to_be_hidden()
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    shot(page, "02-check-inbox")

    # 2. Beat's sweep sends the confirmation; its link opens a page; only its button confirms.
    assert link_emails_sweep() == 1
    assert len(mail.outbox) == 1
    page.goto(site_link(mail.outbox[0], "confirm", live_server.url))
    expect(page.get_by_text("state space model")).to_be_visible()  # every choice, before confirming
    shot(page, "03-confirm")
    assert Subscriber.objects.get(email="grace@example.org").status == "pending"
    page.get_by_role("button", name="Yes, subscribe me").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    expect(page.get_by_text("Your first digest")).to_contain_text("07:00 (Europe/Berlin time)")
    shot(page, "04-confirmed")
    subscriber = Subscriber.objects.get(email="grace@example.org")
    assert subscriber.status == "active" and subscriber.timezone == "Europe/Berlin"
    assert subscriber.keywords == ["reasoning", "state space model"]

    # 3. Signing up again asks, by email, to confirm the new choices; they apply only then.
    page.goto(live_server.url + "/subscribe/")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_label("Large language models").check()
    page.get_by_label("Robotics", exact=True).check()
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    assert link_emails_sweep() == 1
    assert mail.outbox[-1].subject == "Confirm the new choices for your papermail subscription"
    assert sorted(subscriber.topics.values_list("slug", flat=True)) == ["llm"]
    page.goto(site_link(mail.outbox[-1], "confirm", live_server.url))
    expect(page.get_by_role("heading", name="Apply these choices?")).to_be_visible()
    shot(page, "05-apply-new-choices")
    page.get_by_role("button", name="Yes, apply these choices").click()
    expect(page.get_by_role("heading", name="Your new choices are saved")).to_be_visible()
    assert sorted(subscriber.topics.values_list("slug", flat=True)) == ["llm", "robotics"]

    # 4. The preference centre: change topics, go weekly on Fridays, then unsubscribe.
    page.goto(site_link(mail.outbox[-1], "manage", live_server.url))
    assert page.get_by_label("Robotics", exact=True).is_checked()
    expect(page.locator("select[name=send_weekday]")).to_be_hidden()
    shot(page, "06-manage")
    page.get_by_label("Robotics", exact=True).uncheck()
    page.get_by_label("AI agents").check()
    page.get_by_label("Weekly").check()
    page.locator("select[name=send_weekday]").select_option(label="Friday")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    expect(
        page.get_by_text("You receive a weekly digest at 07:00 (Europe/Berlin time) on Fridays")
    ).to_be_visible()
    shot(page, "07-saved")
    subscriber.refresh_from_db()
    assert sorted(subscriber.topics.values_list("slug", flat=True)) == ["agents", "llm"]
    assert (subscriber.cadence, subscriber.send_weekday) == ("weekly", 4)
    manage_url = page.url.split("?")[0]
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    shot(page, "08-unsubscribed")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    page.goto(manage_url)
    expect(page.get_by_text("You are unsubscribed")).to_be_visible()
    expect(page.get_by_role("button", name="Subscribe again")).to_be_visible()
    shot(page, "09-manage-unsubscribed")

    assert console_errors == []

    # 5. A broken link offers to email a new one (the page answers 404, which the console reports).
    response = page.goto(live_server.url + "/manage/this-link-was-cut-short/")
    assert response.status == 404
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    console_errors.clear()
    expect(page.get_by_role("heading", name="This link is no longer valid")).to_be_visible()
    shot(page, "10-link-gone")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Email me a new link").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    assert link_emails_sweep() == 1
    page.goto(site_link(mail.outbox[-1], "manage", live_server.url))
    expect(page.get_by_text("You are unsubscribed")).to_be_visible()

    assert console_errors == []
