"""A person subscribes on the home page, confirms from the email, changes topics, and leaves."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from subscribers.models import Subscriber
from subscribers.services import link_emails_sweep
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

    # 1. The home page: the latest papers and the sign-up form.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Latest papers")).to_be_visible()
    assert page.locator("select[name=timezone]").input_value() == "Europe/Berlin"  # from the browser
    shot(page, "01-home")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_label("Large language models").check()
    page.get_by_label("Keywords").fill('reasoning, "state space model", -robotics')
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    shot(page, "02-check-inbox")

    # 2. Beat's sweep sends the confirmation; its link opens a page; only its button confirms.
    assert link_emails_sweep() == 1
    assert len(mail.outbox) == 1
    page.goto(site_link(mail.outbox[0], "confirm", live_server.url))
    shot(page, "03-confirm")
    assert Subscriber.objects.get(email="grace@example.org").status == "pending"
    page.get_by_role("button", name="Yes, subscribe me").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    shot(page, "04-confirmed")
    subscriber = Subscriber.objects.get(email="grace@example.org")
    assert subscriber.status == "active" and subscriber.timezone == "Europe/Berlin"
    assert subscriber.keywords == ["reasoning", "state space model"]

    # 3. Signing up again mails a manage link; there, change topics, then unsubscribe.
    page.goto(live_server.url + "/subscribe/")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_label("Robotics").check()
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    assert link_emails_sweep() == 1
    assert mail.outbox[-1].subject == "Your papermail subscription"
    page.goto(site_link(mail.outbox[-1], "manage", live_server.url))
    assert page.get_by_label("Large language models").is_checked()
    shot(page, "05-manage")
    page.get_by_label("Large language models").uncheck()
    page.get_by_label("AI agents").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    shot(page, "06-saved")
    assert sorted(subscriber.topics.values_list("slug", flat=True)) == ["agents"]
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    shot(page, "07-unsubscribed")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"

    assert console_errors == []
