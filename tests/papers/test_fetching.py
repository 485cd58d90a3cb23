"""Fetching feeds over HTTP from a local server: conditional GET, retries, caps, bad bodies.

Each failure must end as a clear error on that feed's run and never stop the others.
"""

from __future__ import annotations

import pytest

from papers import services
from papers.models import Feed, FetchRun, Paper
from tests.factories import FeedFactory
from tests.httpserver import Reply

pytestmark = pytest.mark.django_db

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def rss_feed(url: str) -> Feed:
    return FeedFactory(kind=Feed.Kind.ARXIV_RSS, url=url)


def test_it_fetches_stores_and_records_the_run(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(
            body=sample("arxiv_cs.CL_2026-11-24.xml"),
            headers={**RSS, "ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 05:00:12 GMT"},
        ),
    )
    feed = rss_feed(url)
    run = services.feed_fetch(feed=feed)
    assert (run.status, run.http_status, run.new) == (FetchRun.Status.OK, 200, 12)
    assert Paper.objects.count() == 12
    feed.refresh_from_db()
    assert feed.last_status == Feed.Status.OK and feed.last_new == 12
    assert feed.etag == '"v1"' and feed.last_modified == "Tue, 24 Nov 2026 05:00:12 GMT"
    assert run.feed == feed and run.finished_at is not None


def test_it_sends_a_polite_user_agent(feed_server, sample, settings) -> None:
    settings.FEED_USER_AGENT = "papermail-test/1.0 (+mailto:ops@example.org)"
    url = feed_server.script("/rss/cs.CL", Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS))
    services.feed_fetch(feed=rss_feed(url))
    assert (
        feed_server.requests["/rss/cs.CL"][0]["User-Agent"] == "papermail-test/1.0 (+mailto:ops@example.org)"
    )


def test_a_304_means_nothing_to_do(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"), headers={**RSS, "ETag": '"v1"'}),
        Reply(status=304, headers={"ETag": '"v1"'}),
    )
    feed = rss_feed(url)
    services.feed_fetch(feed=feed)
    run = services.feed_fetch(feed=feed)
    assert run.status == FetchRun.Status.NOT_MODIFIED and run.http_status == 304
    assert feed_server.requests["/rss/cs.CL"][1]["If-None-Match"] == '"v1"'
    feed.refresh_from_db()
    assert feed.last_status == Feed.Status.NOT_MODIFIED and feed.etag == '"v1"'


def test_it_retries_5xx_then_succeeds(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(status=503, body=b"busy"),
        Reply(status=502, body=b"bad gateway"),
        Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"), headers=RSS),
    )
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.OK and run.new == 12
    assert feed_server.hits("/rss/cs.CL") == 3


def test_it_gives_up_after_the_last_retry_with_a_clear_error(feed_server, settings) -> None:
    settings.FEED_RETRIES = 2
    url = feed_server.script("/rss/cs.CL", Reply(status=500, body=b"oops"))
    feed = rss_feed(url)
    run = services.feed_fetch(feed=feed)
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "server error HTTP 500 (gave up after 2 attempts)"
    assert feed_server.hits("/rss/cs.CL") == 2
    feed.refresh_from_db()
    assert feed.last_status == Feed.Status.ERROR and feed.last_error == run.error


def test_it_honours_retry_after_on_429(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(status=429, headers={"Retry-After": "0"}),
        Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS),
    )
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.OK and feed_server.hits("/rss/cs.CL") == 2


def test_a_timeout_is_retried_then_reported(feed_server, settings) -> None:
    settings.FEED_READ_TIMEOUT = 0.3
    settings.FEED_RETRIES = 2
    url = feed_server.script("/rss/cs.CL", Reply(delay=1.0, body=b"late"))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error.startswith("timed out") and "gave up after 2 attempts" in run.error


def test_a_dropped_connection_is_retried(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL", Reply(drop=True), Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS)
    )
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.OK and feed_server.hits("/rss/cs.CL") == 2


def test_an_oversized_body_is_refused(feed_server, sample, settings) -> None:
    settings.FEED_MAX_BYTES = 4096
    url = feed_server.script("/rss/cs.CL", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"), headers=RSS))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error.startswith("document too large:") and "limit 4,096" in run.error
    assert Paper.objects.count() == 0


def test_an_oversized_body_without_content_length_is_cut_off(feed_server, settings) -> None:
    settings.FEED_MAX_BYTES = 1000
    url = feed_server.script("/big", Reply(body=b"<rss>" + b"x" * 200_000, headers={"Content-Length": ""}))
    # An empty Content-Length makes the client read until the cap.
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR and "too large" in run.error


def test_a_server_that_trickles_bytes_is_cut_off(feed_server, sample, settings) -> None:
    settings.FEED_TOTAL_TIMEOUT = 0.5
    url = feed_server.script(
        "/slow", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"), headers=RSS, trickle=0.02)
    )
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error.startswith("server too slow")


def test_an_html_error_page_with_200_is_an_error(feed_server) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(
            body=b"<!DOCTYPE html><html><body>Maintenance</body></html>",
            headers={"Content-Type": "text/html"},
        ),
    )
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "expected a feed but got an HTML page (an error or login page?)"


def test_a_body_of_the_wrong_content_type_is_refused(feed_server) -> None:
    url = feed_server.script("/rss/cs.CL", Reply(body=b"\x89PNG....", headers={"Content-Type": "image/png"}))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.error == "expected a feed but the server sent image/png"


def test_a_redirect_loop_is_an_error(feed_server) -> None:
    url = feed_server.script("/loop", Reply(status=302, headers={"Location": "/loop"}))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR and "redirect" in run.error


def test_an_arxiv_400_carries_its_own_explanation(feed_server, sample) -> None:
    url = feed_server.script(
        "/api/query",
        Reply(
            status=400,
            body=sample("arxiv_api_error.atom"),
            headers={"Content-Type": "application/atom+xml"},
        ),
    )
    run = services.feed_fetch(feed=FeedFactory(kind=Feed.Kind.ARXIV_API, url=url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "HTTP 400: arXiv API error: incorrect id format for xyz"


def test_an_error_keeps_the_old_cache_validators_so_the_next_run_refetches(feed_server, sample) -> None:
    url = feed_server.script(
        "/rss/cs.CL",
        Reply(body=sample("arxiv_rss_empty.xml"), headers={**RSS, "ETag": '"good"'}),
        Reply(body=b"<rss><channel><item>", headers={**RSS, "ETag": '"broken"'}),
    )
    feed = rss_feed(url)
    services.feed_fetch(feed=feed)
    run = services.feed_fetch(feed=feed)
    assert run.status == FetchRun.Status.ERROR
    feed.refresh_from_db()
    assert feed.etag == '"good"'


def test_hugging_face_backfill_asks_for_the_day(feed_server, sample) -> None:
    import datetime as dt

    url = feed_server.script(
        "/api/daily_papers",
        Reply(
            body=sample("hf_daily_papers_2026-11-24.json"),
            headers={"Content-Type": "application/json", "ETag": '"day"'},
        ),
    )
    feed = FeedFactory(kind=Feed.Kind.HF_JSON, url=url)
    run = services.feed_fetch(feed=feed, day=dt.date(2026, 11, 24))
    assert run.status == FetchRun.Status.OK and run.new == 8
    assert run.source.endswith("/api/daily_papers?date=2026-11-24")
    feed.refresh_from_db()
    assert feed.etag == ""  # a backfill never replaces the live feed's validators
