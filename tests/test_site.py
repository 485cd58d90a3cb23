"""The home page, the health check, and the default feeds and schedules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django_celery_beat.models import PeriodicTask

from papers.models import Feed
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_is_the_latest_days_papers_with_links(client) -> None:
    PaperFactory(
        arxiv_id="2611.18230",
        title="Self-Correcting Chain-of-Thought",
        author_names=["José Ramírez", "Yann LeCun"],
        categories=["cs.CL", "cs.AI"],
        upvotes=142,
        announced_on=dt.date(2026, 11, 24),
        abs_url="https://arxiv.org/abs/2611.18230",
    )
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/papers/2611.18230/">Self-Correcting Chain-of-Thought</a>' in html
    assert '<a href="https://arxiv.org/abs/2611.18230"' in html
    assert "José Ramírez, Yann LeCun" in html
    assert "Tuesday 24 November 2026" in html
    assert "▲ 142" in html
    assert "Get trending papers in your email inbox!" in html


def test_the_home_page_orders_by_upvotes_and_hides_hidden(client) -> None:
    PaperFactory(title="Old but loved", announced_on=dt.date(2026, 11, 23), upvotes=500)
    PaperFactory(title="New and quiet", announced_on=dt.date(2026, 11, 24), upvotes=None)
    PaperFactory(title="New and loud", announced_on=dt.date(2026, 11, 24), upvotes=50)
    PaperFactory(title="Hidden by an editor", announced_on=dt.date(2026, 11, 24), hidden=True)
    html = client.get("/").content.decode()
    positions = [html.index(t) for t in ("New and loud", "New and quiet")]
    assert positions == sorted(positions)
    assert "Old but loved" not in html  # the day before: one click back
    assert "Hidden by an editor" not in html


def test_the_home_page_escapes_hostile_paper_text(client) -> None:
    PaperFactory(
        title='<script>alert("t")</script>',
        author_names=["<img src=x onerror=alert(1)>"],
        announced_on=dt.date(2026, 11, 24),
    )
    html = client.get("/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in html


def test_the_home_page_says_how_to_get_papers_when_there_are_none(client) -> None:
    assert "No papers yet" in client.get("/").content.decode()


def test_the_home_page_sends_security_headers(client) -> None:
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_healthz_reports_database_and_broker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_broker_is_down(client, monkeypatch) -> None:
    from newsletter.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


def test_default_feeds_exist_and_are_editable_rows() -> None:
    slugs = set(Feed.objects.values_list("slug", flat=True))
    assert {
        "arxiv-cs-ai",
        "arxiv-cs-cl",
        "arxiv-cs-cv",
        "arxiv-cs-lg",
        "arxiv-stat-ml",
        "hf-daily-papers",
    } <= slugs
    assert Feed.objects.get(slug="arxiv-cs-cl").url == "https://rss.arxiv.org/rss/cs.CL"
    assert Feed.objects.get(slug="hf-daily-papers").kind == Feed.Kind.HF_JSON


def test_beat_schedules_fetch_arxiv_after_the_announcement_and_hf_through_the_day() -> None:
    arxiv = PeriodicTask.objects.get(name="Fetch arXiv listings")
    assert arxiv.task == "papers.tasks.fetch_feeds"
    assert json.loads(arxiv.kwargs) == {"kinds": ["arxiv-rss", "arxiv-api"]}
    assert (arxiv.crontab.minute, arxiv.crontab.hour, arxiv.crontab.day_of_week) == (
        "30",
        "0,4",
        "1-5",
    )
    assert str(arxiv.crontab.timezone) == "UTC"
    hf = PeriodicTask.objects.get(name="Fetch Hugging Face daily papers")
    assert json.loads(hf.kwargs) == {"kinds": ["hf-json", "hf-rss"]}
    assert hf.crontab.hour == "*/3"
