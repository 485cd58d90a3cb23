"""The catalogue in the admin: lists, search, filters, and Fetch now."""

from __future__ import annotations

import re
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from papers import tasks
from papers.models import Feed, FetchRun, Paper
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


# --- Feed URLs an editor may save ---------------------------------------------------------------


@pytest.fixture
def resolver(monkeypatch) -> dict[str, str]:
    """Names the fake resolver knows; any other name does not resolve (there is no internet)."""
    names: dict[str, str] = {}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in names:
            return real_getaddrinfo(names[host], port, *args, **kwargs)
        try:
            return real_getaddrinfo(host, port, *args, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            if host == "localhost":
                return real_getaddrinfo(host, port, *args, **kwargs)
            raise

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def add_feed(client, url: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/papers/feed/add/",
        {
            "slug": "internal",
            "name": "Internal",
            "kind": Feed.Kind.HF_JSON,
            "url": url,
            "enabled": "on",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
            "runs-MIN_NUM_FORMS": "0",
            "runs-MAX_NUM_FORMS": "0",
        },
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:8799/internal.json",
            "127.0.0.1 is a loopback address; only public addresses are fetched",
        ),
        ("http://localhost:8799/internal.json", "a loopback address; only public addresses are fetched"),
        (
            "http://[::ffff:10.0.0.1]/feed",
            "::ffff:10.0.0.1 is a private address; only public addresses are fetched",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "metadata.google.internal resolves to 169.254.169.254, a cloud metadata address; "
            "only public addresses are fetched",
        ),
        ("ftp://ftp.example.org/feed.xml", "Refused: only http and https URLs are fetched."),
    ],
)
def test_an_editor_cannot_save_a_feed_that_is_not_on_a_public_http_address(
    staff, settings, resolver, url: str, message: str
) -> None:
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    resolver["metadata.google.internal"] = "169.254.169.254"
    response = add_feed(staff, url)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Feed.objects.filter(slug="internal").exists()


def test_an_editor_can_save_a_feed_on_a_public_host(staff, settings, resolver) -> None:
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    resolver["feeds.example.org"] = "151.101.1.1"
    response = add_feed(staff, "https://feeds.example.org/daily.json")
    assert response.status_code == 302
    assert Feed.objects.get(slug="internal").url == "https://feeds.example.org/daily.json"


def test_a_feed_whose_host_does_not_resolve_yet_can_be_saved(staff, settings, resolver) -> None:
    # DNS can fail for a moment; the fetch checks the address again and says so if it fails.
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    response = add_feed(staff, "https://not-yet.example.org/daily.json")
    assert response.status_code == 302


def test_a_local_feed_can_be_saved_when_private_addresses_are_allowed(staff, settings) -> None:
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True
    response = add_feed(staff, "http://127.0.0.1:8799/feed.json")
    assert response.status_code == 302


# --- Paper links an editor may save ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://files.example.org/code.tar"],
)
@pytest.mark.parametrize(
    "field", ["abs_url", "pdf_url", "hf_url", "code_url", "project_url", "thumbnail_url"]
)
def test_a_paper_link_must_be_http_or_https(field: str, url: str) -> None:
    paper = PaperFactory.build(**{field: url})
    with pytest.raises(ValidationError) as caught:
        paper.full_clean()
    assert field in caught.value.message_dict


def test_an_editor_cannot_save_an_ftp_code_link_in_the_admin(staff) -> None:
    paper = PaperFactory(code_url="https://github.com/lab/code")
    form = staff.get(f"/admin/papers/paper/{paper.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        author_names="A B",
        categories="cs.CL",
        ai_keywords="",
        code_url="ftp://files.example.org/code.tar",
    )
    response = staff.post(f"/admin/papers/paper/{paper.pk}/change/", data)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["code_url"]
    paper.refresh_from_db()
    assert paper.code_url == "https://github.com/lab/code"
    assert Paper.objects.filter(code_url__startswith="ftp:").count() == 0


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
