"""The catalogue in the admin: lists, search, filters, and Fetch now."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from papers import tasks
from papers.models import Feed, FetchRun
from tests.factories import FeedFactory, PaperFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def test_the_paper_list_searches_titles_authors_and_ids(staff) -> None:
    PaperFactory(arxiv_id="2611.18230", title="Verifier-guided backtracking", author_names=["José Ramírez"])
    PaperFactory(arxiv_id="2611.00001", title="Something else", author_names=["Bo Li"])
    for term in ("backtracking", "Ramírez", "2611.18230"):
        html = staff.get("/admin/papers/paper/", {"q": term}).content.decode()
        assert "Verifier-guided backtracking" in html and "Something else" not in html, term


def test_the_paper_list_filters_by_source(staff) -> None:
    PaperFactory(title="Seen on HF", sources=["hf-json"])
    PaperFactory(title="Seen on arXiv", sources=["arxiv-rss"])
    html = staff.get("/admin/papers/paper/", {"source": "hf-json"}).content.decode()
    assert "Seen on HF" in html and "Seen on arXiv" not in html


def test_the_feed_list_shows_status_counts_and_error(staff) -> None:
    FeedFactory(
        name="Broken feed", last_status=Feed.Status.ERROR, last_error="server error HTTP 500", last_new=3
    )
    html = staff.get("/admin/papers/feed/").content.decode()
    assert "Broken feed" in html and "server error HTTP 500" in html and "3 / 0 / 0 / 0" in html


def test_fetch_now_queues_one_task_per_selected_feed(
    staff, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(tasks.fetch_feed, "delay", lambda feed_id: queued.append(feed_id))
    feeds = [FeedFactory(), FeedFactory()]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/papers/feed/",
            {"action": "fetch_now", "_selected_action": [f.pk for f in feeds]},
            follow=True,
        )
    assert sorted(queued) == sorted(f.pk for f in feeds)
    assert "Queued a fetch for 2 feed(s)." in response.content.decode()


def test_the_feed_page_shows_its_fetch_history(staff) -> None:
    feed = FeedFactory()
    FetchRun.objects.create(feed=feed, source=feed.url, status=FetchRun.Status.ERROR, error="HTTP 404")
    html = staff.get(f"/admin/papers/feed/{feed.pk}/change/").content.decode()
    assert "HTTP 404" in html


def test_fetch_runs_are_read_only(staff) -> None:
    assert staff.get("/admin/papers/fetchrun/add/").status_code == 403


def test_it_edits_a_papers_authors_one_per_line_and_categories_as_text(staff) -> None:
    paper = PaperFactory(
        author_names=["Smith, Jr., John", "Bo Li"], categories=["cs.CL"], primary_category="cs.CL"
    )
    page = staff.get(f"/admin/papers/paper/{paper.pk}/change/").content.decode()
    assert re.search(r'<textarea name="author_names"[^>]*>\s*Smith, Jr., John\nBo Li</textarea>', page)
    form = {
        "arxiv_id": paper.arxiv_id,
        "version": "1",
        "title": paper.title,
        "abstract": paper.abstract,
        "author_names": "Smith, Jr., John\r\nBo Li\r\nAnn Lee",
        "primary_category": "cs.CL",
        "categories": "cs.CL, cs.LG",
        "ai_keywords": "",
        "first_seen_at_0": "2026-11-24",
        "first_seen_at_1": "10:00:00",
        "last_seen_at_0": "2026-11-24",
        "last_seen_at_1": "10:00:00",
    }
    response = staff.post(f"/admin/papers/paper/{paper.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    paper.refresh_from_db()
    assert paper.author_names == ["Smith, Jr., John", "Bo Li", "Ann Lee"]
    assert paper.categories == ["cs.CL", "cs.LG"]


def test_the_paper_list_keeps_its_short_columns_short(staff) -> None:
    sources = ["arxiv-rss", "arxiv-api", "hf-json"]
    PaperFactory(title="Seen twice", sources=sources, featured=True, hidden=True)
    html = staff.get("/admin/papers/paper/").content.decode()
    assert 'Seen twice <span class="pm-flag">featured</span> <span class="pm-flag">hidden</span>' in html
    assert '<td class="field-source_list">arXiv, HF</td>' in html
    assert "/static/css/admin.css" in html


def test_the_paper_page_names_the_feeds_it_was_seen_in(staff) -> None:
    paper = PaperFactory(sources=["arxiv-rss", "hf-json"])
    html = staff.get(f"/admin/papers/paper/{paper.pk}/change/").content.decode()
    assert "arXiv RSS, Hugging Face daily papers (JSON)" in html and "[&quot;arxiv-rss" not in html
