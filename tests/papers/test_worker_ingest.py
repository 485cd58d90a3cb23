"""Beat's fetch task on a real Celery worker, over Redis, into PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.celery import app
from papers import tasks
from papers.models import Feed, FetchRun, Paper
from tests.factories import FeedFactory
from tests.httpserver import Reply
from tests.workers import celery_worker, wait_for, worker_broker_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("local_feeds"),
]

# The worker runs the real settings; the feeds here are served from 127.0.0.1.
LOCAL_FEEDS = {"FEED_ALLOW_PRIVATE_ADDRESSES": "1"}


def test_a_real_worker_fetches_every_enabled_feed_of_the_scheduled_kinds(
    feed_server, sample, tmp_path: Path
) -> None:
    Feed.objects.all().delete()
    cl = FeedFactory(
        slug="cs-cl",
        url=feed_server.script("/cl", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"))),
    )
    lg = FeedFactory(
        slug="cs-lg", url=feed_server.script("/lg", Reply(body=sample("arxiv_rss_next_day.xml")))
    )
    FeedFactory(slug="hf", kind=Feed.Kind.HF_JSON, url=feed_server.url("/hf"))
    with (
        celery_worker(tmp_path, extra_env=LOCAL_FEEDS),
        app.connection_for_write(worker_broker_url()) as conn,
    ):
        # What beat sends for the arXiv schedule: one fan-out task, then one task per feed.
        tasks.fetch_feeds.apply_async(kwargs={"kinds": ["arxiv-rss", "arxiv-api"]}, connection=conn)
        runs = wait_for(
            lambda: (
                list(FetchRun.objects.exclude(status=FetchRun.Status.RUNNING))
                if FetchRun.objects.exclude(status=FetchRun.Status.RUNNING).count() == 2
                else None
            )
        )
    assert {run.feed_id for run in runs} == {cl.id, lg.id}
    assert {run.status for run in runs} == {FetchRun.Status.OK}
    assert Paper.objects.count() == 14
    assert Paper.objects.get(arxiv_id="2611.18230").version == 2
    assert feed_server.hits("/hf") == 0


def test_a_task_delivered_twice_stores_each_paper_once(feed_server, sample, tmp_path: Path) -> None:
    feed = FeedFactory(url=feed_server.script("/cl", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"))))
    with (
        celery_worker(tmp_path, extra_env=LOCAL_FEEDS),
        app.connection_for_write(worker_broker_url()) as conn,
    ):
        for _ in range(2):
            tasks.fetch_feed.apply_async((feed.id,), connection=conn)
        wait_for(
            lambda: FetchRun.objects.filter(feed=feed).exclude(status=FetchRun.Status.RUNNING).count() == 2
        )
    statuses = sorted(FetchRun.objects.filter(feed=feed).values_list("new", "unchanged"))
    assert statuses == [(0, 12), (12, 0)]
    assert Paper.objects.count() == 12
