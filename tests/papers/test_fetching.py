"""Fetching feeds over HTTP from a local server: conditional GET, retries, caps, bad bodies.

Each failure must end as a clear error on that feed's run and never stop the others.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme

from papers import fetching, services
from papers.checks import check_feed_addresses
from papers.models import Feed, FetchRun, Paper
from tests.factories import FeedFactory
from tests.httpserver import FeedServer, Reply
from tests.test_settings import show

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_feeds")]

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
JSON = {"Content-Type": "application/json"}


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


def test_an_http_error_shows_its_status_and_never_the_body(feed_server, sample) -> None:
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
    assert run.error == "HTTP 400 Bad Request"


def test_an_http_error_with_a_json_error_body_does_not_echo_it(feed_server) -> None:
    url = feed_server.script(
        "/internal.json",
        Reply(status=403, body=b'{"error": "db password is hunter2"}', headers=JSON),
    )
    feed = FeedFactory(kind=Feed.Kind.HF_JSON, url=url)
    run = services.feed_fetch(feed=feed)
    assert run.error == "HTTP 403 Forbidden"
    feed.refresh_from_db()
    assert "hunter2" not in feed.last_error


def test_an_error_document_answered_with_200_is_reported_without_its_words(feed_server) -> None:
    url = feed_server.script(
        "/internal.json", Reply(body=b'{"error": "db password is hunter2"}', headers=JSON)
    )
    run = services.feed_fetch(feed=FeedFactory(kind=Feed.Kind.HF_JSON, url=url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "Hugging Face API error"


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


# --- Only public addresses (FEED_ALLOW_PRIVATE_ADDRESSES off, as in production) ---------------


@pytest.fixture
def public_only(settings, local_feeds) -> None:
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False


def test_feeds_are_fetched_from_public_addresses_only_unless_a_setting_says_otherwise(tmp_path) -> None:
    assert show("settings.FEED_ALLOW_PRIVATE_ADDRESSES", {}, tmp_path) == "False"
    assert (
        show("settings.FEED_ALLOW_PRIVATE_ADDRESSES", {"FEED_ALLOW_PRIVATE_ADDRESSES": "1"}, tmp_path)
        == "True"
    )


def test_the_deploy_check_warns_when_private_addresses_are_allowed(settings) -> None:
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True
    assert [message.id for message in check_feed_addresses()] == ["papers.W001"]
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    assert check_feed_addresses() == []


@pytest.fixture
def outside_server(monkeypatch) -> Iterator[FeedServer]:
    """A server on 127.0.0.2 that the address check is told to treat as a public host."""
    real_check = fetching.address_problem
    monkeypatch.setattr(
        fetching,
        "address_problem",
        lambda address: "" if str(address) == "127.0.0.2" else real_check(address),
    )
    server = FeedServer(host="127.0.0.2")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_it_refuses_a_feed_on_a_loopback_address_without_asking_it(feed_server, public_only) -> None:
    url = feed_server.script("/internal.json", Reply(body=b'{"error": "the internal secret"}', headers=JSON))
    feed = FeedFactory(kind=Feed.Kind.HF_JSON, url=url)
    run = services.feed_fetch(feed=feed)
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "refused: 127.0.0.1 is a loopback address; only public addresses are fetched"
    assert feed_server.hits("/internal.json") == 0
    feed.refresh_from_db()
    assert feed.last_status == Feed.Status.ERROR and "secret" not in feed.last_error


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]", "127.1", "2130706433"])
def test_it_refuses_loopback_however_it_is_spelled(feed_server, public_only, host: str) -> None:
    url = feed_server.script("/internal.json", Reply(body=b"secret"))
    port = feed_server.httpd.server_address[1]
    run = services.feed_fetch(feed=rss_feed(f"http://{host}:{port}/internal.json"))
    assert run.error.startswith("refused: ") and "a loopback address" in run.error, run.error
    assert feed_server.hits("/internal.json") == 0
    assert url  # the path is scripted, so a request that got through would have been answered


def test_it_refuses_a_redirect_to_a_loopback_address(feed_server, outside_server, public_only) -> None:
    internal = feed_server.script("/internal.json", Reply(body=b"secret"))
    url = outside_server.script("/feed", Reply(status=302, headers={"Location": internal}))
    run = services.feed_fetch(feed=rss_feed(url))
    assert outside_server.hits("/feed") == 1
    assert feed_server.hits("/internal.json") == 0
    assert run.error == "refused: 127.0.0.1 is a loopback address; only public addresses are fetched"


def test_it_follows_a_redirect_between_public_addresses(outside_server, public_only, sample) -> None:
    target = outside_server.script("/rss/cs.CL", Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS))
    url = outside_server.script("/old", Reply(status=301, headers={"Location": target}))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.OK, run.error


def test_it_connects_to_the_address_it_checked(outside_server, public_only, sample, monkeypatch) -> None:
    # A resolver that answers a public address once, then a loopback one (DNS rebinding).
    answers = iter(["127.0.0.2", "127.0.0.1", "127.0.0.1"])
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "feeds.example.org":
            lookups.append(host)
            return real_getaddrinfo(next(answers), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    outside_server.script("/rss/cs.CL", Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS))
    port = outside_server.httpd.server_address[1]
    run = services.feed_fetch(feed=rss_feed(f"http://feeds.example.org:{port}/rss/cs.CL"))
    assert run.status == FetchRun.Status.OK, run.error
    assert lookups == ["feeds.example.org"]
    assert outside_server.requests["/rss/cs.CL"][0]["Host"] == f"feeds.example.org:{port}"


def test_https_goes_to_the_checked_address_with_the_hosts_name_for_sni_and_certificate(
    outside_server, public_only, sample, monkeypatch, tmp_path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("feeds.example.org").configure_cert(context)
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    outside_server.httpd.socket = context.wrap_socket(outside_server.httpd.socket, server_side=True)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real_getaddrinfo("127.0.0.2" if host == "feeds.example.org" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    outside_server.script("/rss/cs.CL", Reply(body=sample("arxiv_rss_empty.xml"), headers=RSS))
    port = outside_server.httpd.server_address[1]
    run = services.feed_fetch(feed=rss_feed(f"https://feeds.example.org:{port}/rss/cs.CL"))
    assert run.status == FetchRun.Status.OK, run.error
    assert server_names == ["feeds.example.org"]
    assert outside_server.requests["/rss/cs.CL"][0]["Host"] == f"feeds.example.org:{port}"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://ftp.example.org/feed.xml", "gopher://127.0.0.1:6379/_INFO", "http:///feed"],
)
def test_it_fetches_only_http_and_https_urls(url: str) -> None:
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.status == FetchRun.Status.ERROR
    assert run.error.startswith("refused: "), run.error


def test_it_refuses_a_redirect_to_another_scheme(feed_server) -> None:
    url = feed_server.script("/feed", Reply(status=302, headers={"Location": "file:///etc/passwd"}))
    run = services.feed_fetch(feed=rss_feed(url))
    assert run.error == "refused: redirected to a file: URL; only http and https URLs are fetched"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "0.0.0.0",  # noqa: S104
        "::",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "fd00:ec2::254",
        "168.63.129.16",
        "100.100.100.200",
        "192.0.0.192",
        "fe80::1",
        "fec0::1",
        "fc00::1",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.1",
        "2001:db8::1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
    ],
)
def test_it_refuses_every_address_that_is_not_public(address: str) -> None:
    assert fetching.address_problem(ipaddress.ip_address(address)) != ""


@pytest.mark.parametrize("address", ["151.101.1.1", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1"])
def test_it_accepts_public_addresses(address: str) -> None:
    assert fetching.address_problem(ipaddress.ip_address(address)) == ""


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("127.0.0.1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
    ],
)
def test_it_says_what_kind_of_address_it_refused(address: str, words: str) -> None:
    assert fetching.address_problem(ipaddress.ip_address(address)) == words
