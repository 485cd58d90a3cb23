"""An editor logs in, features a paper and previews a subscriber's digest, in a real browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from papers.models import Paper
from tests.browser.conftest import shot
from tests.factories import PaperFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_editor_features_a_paper_and_previews_a_digest(roles, browser_page, live_server) -> None:
    page, console_errors = browser_page
    editor = User.objects.create_user(
        "edith", "edith@papers.example.org", "correct horse battery", is_staff=True
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    topic = TopicFactory(slug="t-llm", name="Language models", categories=["cs.CL"])
    today = dt.date.today()
    paper = PaperFactory(
        title="Verifier-guided backtracking for language models",
        categories=["cs.CL"],
        announced_on=today,
        upvotes=142,
    )
    PaperFactory(title="Parsing at scale", categories=["cs.CL"], announced_on=today, upvotes=3)
    reader = SubscriberFactory(
        email="ada@example.org", topics=[topic], timezone="UTC", keywords=["backtracking"]
    )

    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("edith")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Needs attention")).to_be_visible()
    shot(page, "10-admin-dashboard")
    # The cards sit side by side, using the page's width (not Django's 600px index column).
    cards = [page.locator(".pm-card").nth(n).bounding_box() for n in range(3)]
    assert cards[0]["y"] == cards[1]["y"] == cards[2]["y"]
    assert cards[0]["x"] < cards[1]["x"] < cards[2]["x"]
    assert page.locator(".pm-dashboard").bounding_box()["width"] > 700

    long_title = "A long title about verifier-guided backtracking for large language models, and more"
    PaperFactory(title=long_title, categories=["cs.CL"], announced_on=today, sources=["arxiv-rss", "hf-json"])
    page.goto(live_server.url + "/admin/papers/paper/")
    # Titles get the room: a long title takes at most three lines, and no column is cut off.
    title_link = page.locator(".field-title_short a", has_text=long_title)
    assert title_link.evaluate("link => link.getClientRects().length") <= 3  # line boxes of the title
    assert page.locator("#result_list").evaluate(
        "table => table.scrollWidth <= table.parentElement.clientWidth"
    )
    page.locator(f"input[name=_selected_action][value='{paper.pk}']").check()
    page.locator("select[name=action]").select_option("feature")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Featured 1 paper(s).")).to_be_visible()
    shot(page, "11-admin-featured")
    assert Paper.objects.get(pk=paper.pk).featured

    page.goto(live_server.url + f"/admin/subscribers/subscriber/{reader.pk}/preview/")
    expect(page.get_by_text("Why each paper")).to_be_visible()
    frame = page.frame_locator("iframe[title='HTML part of the digest']")
    expect(frame.get_by_text("Verifier-guided backtracking for language models").first).to_be_visible()
    expect(
        page.get_by_text('matches "backtracking" · in Language models · featured by the editors').first
    ).to_be_visible()
    shot(page, "12-admin-preview")
    assert console_errors == []


def test_a_locked_out_editor_is_told_when_to_try_again(roles, browser_page, live_server) -> None:
    page, console_errors = browser_page
    User.objects.create_user("edith", "edith@papers.example.org", "correct horse battery", is_staff=True)
    page.goto(live_server.url + "/admin/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("edith")
        page.get_by_label("Password").fill("wrong guess")
        page.get_by_role("button", name="Log in").click()
    lockout = "Too many failed sign-ins for this account. Try again in 15 minutes."
    expect(page.get_by_text(lockout)).to_be_visible()
    shot(page, "13-admin-locked-out")
    page.get_by_role("link", name="Back to the sign-in page").click()
    page.get_by_label("Username").fill("edith")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    assert all("429" in error for error in console_errors)  # Chromium reports the status, nothing else


def test_the_topic_preview_follows_what_the_editor_types(roles, browser_page, live_server) -> None:
    page, console_errors = browser_page
    editor = User.objects.create_user(
        "edith", "edith@papers.example.org", "correct horse battery", is_staff=True
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    topic = TopicFactory(slug="t-llm", name="Language models", categories=["cs.CL"])
    today = dt.date.today()
    PaperFactory(title="Parsing at scale", categories=["cs.CL"], primary_category="cs.CL", announced_on=today)
    PaperFactory(title="Robot hands", categories=["cs.RO"], primary_category="cs.RO", announced_on=today)
    page.goto(live_server.url + f"/admin/login/?next=/admin/papers/topic/{topic.pk}/change/")
    page.get_by_label("Username").fill("edith")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    preview = page.locator(".pm-topic-preview")
    expect(preview.get_by_text("Parsing at scale")).to_be_visible()
    categories = page.locator("textarea[name=categories]")
    expect(categories).to_have_value("cs.CL")

    categories.fill("cs.RO, cs.CV")
    expect(preview.get_by_text("Robot hands")).to_be_visible()
    expect(preview.get_by_text("Parsing at scale")).to_have_count(0)
    expect(preview.get_by_text("not saved yet")).to_be_visible()
    shot(page, "14-admin-topic-preview")

    categories.fill("cs RO")
    page.get_by_role("button", name="Preview without saving").click()
    expect(preview.get_by_text("is not an arXiv category")).to_be_visible()
    topic.refresh_from_db()
    assert topic.categories == ["cs.CL"]  # nothing saved
    assert all("400" in error for error in console_errors)
