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

    page.goto(live_server.url + "/admin/papers/paper/")
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
