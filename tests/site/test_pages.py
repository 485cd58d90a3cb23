"""The public papers site: day pages, trending weeks and months, a page per paper, and its cache."""

from __future__ import annotations

import datetime as dt

import pytest

from papers import feeds, vectors
from papers.services import papers_store
from tests.factories import PaperFactory
from tests.papers.catalogue import themed_catalogue

pytestmark = pytest.mark.django_db
MON, TUE, WED = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def html_of(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_it_shows_a_days_papers_most_upvoted_first(client) -> None:
    PaperFactory(title="Quiet paper", announced_on=TUE, upvotes=None)
    PaperFactory(title="Loud paper", announced_on=TUE, upvotes=80)
    PaperFactory(title="Middle paper", announced_on=TUE, upvotes=3)
    PaperFactory(title="Monday paper", announced_on=MON, upvotes=999)
    html = html_of(client, "/papers/2026-11-24/")
    order = [html.index(title) for title in ("Loud paper", "Middle paper", "Quiet paper")]
    assert order == sorted(order)
    assert "Monday paper" not in html
    assert "3 papers announced" in html


def test_it_links_the_days_before_and_after_and_offers_a_date_picker(client) -> None:
    for day in (MON, TUE, WED):
        PaperFactory(announced_on=day)
    html = html_of(client, "/papers/2026-11-24/")
    assert 'rel="prev" href="/papers/2026-11-23/"' in html
    assert 'rel="next" href="/papers/2026-11-25/"' in html
    assert 'type="date" name="date" value="2026-11-24" min="2026-11-23" max="2026-11-25"' in html
    assert client.get("/papers/date/?date=2026-11-23")["Location"] == "/papers/2026-11-23/"
    assert client.get("/papers/date/?date=not-a-date")["Location"] == "/papers/"


def test_it_skips_days_without_papers_in_previous_and_next(client) -> None:
    PaperFactory(announced_on=dt.date(2026, 11, 20))
    PaperFactory(announced_on=TUE)
    assert 'rel="prev" href="/papers/2026-11-20/"' in html_of(client, "/papers/2026-11-24/")


def test_papers_shows_the_latest_day(client) -> None:
    PaperFactory(title="Older", announced_on=MON)
    PaperFactory(title="Newest", announced_on=TUE)
    html = html_of(client, "/papers/")
    assert "Newest" in html and "Older" not in html


def test_it_pages_a_long_day(client, settings) -> None:
    settings.SITE_PAGE_SIZE = 2
    for n in range(5):
        PaperFactory(title=f"Paper with {n} votes", announced_on=TUE, upvotes=n)
    first = html_of(client, "/papers/2026-11-24/")
    assert "Paper with 4 votes" in first and "Paper with 2 votes" not in first
    assert 'href="?page=2"' in first
    third = html_of(client, "/papers/2026-11-24/?page=3")
    assert "Paper with 0 votes" in third and 'rel="next"' not in third.split("Pages")[-1]


def test_it_answers_404_for_a_day_or_page_that_is_not_one(client, settings) -> None:
    PaperFactory(announced_on=TUE)
    for url in ("/papers/2026-13-01/", "/papers/2026-11-24/?page=0", "/papers/2026-11-24/?page=x"):
        assert client.get(url).status_code == 404, url
    assert client.get("/papers/2026-11-24/?page=9").status_code == 404
    assert client.get(f"/papers/2026-11-24/?page={settings.SITE_MAX_PAGES + 1}").status_code == 404


def test_a_card_shows_summary_thumbnail_counts_and_links(client) -> None:
    PaperFactory(
        arxiv_id="2611.00001",
        title="Carded",
        announced_on=TUE,
        author_names=[f"Author {n}" for n in range(1, 13)],
        ai_summary="A short AI summary.",
        abstract="The long abstract.",
        thumbnail_url="https://cdn.example.org/thumb.png",
        upvotes=12,
        hf_comments=3,
        organization="Example Lab",
        code_url="https://github.com/example/carded",
        github_stars=345,
        project_url="https://carded.example.org/",
    )
    html = html_of(client, "/papers/2026-11-24/")
    assert "Author 1, Author 2, Author 3, … Author 12 (12 authors)" in html
    assert "A short AI summary." in html and "The long abstract." not in html
    assert 'src="https://cdn.example.org/thumb.png" alt="" width="192" height="108" loading="lazy"' in html
    assert "▲ 12" in html and "3 comments" in html and "Example Lab" in html
    assert 'href="https://github.com/example/carded"' in html and "★ 345" in html
    assert 'href="https://carded.example.org/"' in html
    assert 'href="https://arxiv.org/pdf/2611.00001"' in html


def test_a_card_shows_the_abstracts_first_lines_without_a_summary(client) -> None:
    PaperFactory(announced_on=TUE, abstract="word " * 200)
    html = html_of(client, "/papers/2026-11-24/")
    assert ("word " * 40).strip() in html and "word…" in html


def test_only_http_urls_become_links_or_images(client) -> None:
    PaperFactory(
        arxiv_id="2611.00002",
        announced_on=TUE,
        code_url="javascript:alert(1)",
        project_url="data:text/html,hi",
        thumbnail_url="http://insecure.example.org/t.png",
        pdf_url="ftp://example.org/p.pdf",
    )
    for url in ("/papers/2026-11-24/", "/papers/2611.00002/"):
        html = html_of(client, url)
        assert "javascript:" not in html and "data:text" not in html and "ftp://" not in html
        assert "insecure.example.org" not in html  # images load over https only (the pages' CSP)
        assert 'href="https://arxiv.org/pdf/2611.00002"' in html


def test_the_weekly_page_ranks_the_weeks_upvoted_papers(client) -> None:
    PaperFactory(title="Monday star", announced_on=MON, upvotes=40)
    PaperFactory(title="Wednesday hit", announced_on=WED, upvotes=90)
    PaperFactory(title="No votes", announced_on=TUE, upvotes=None)
    PaperFactory(title="Last week", announced_on=MON - dt.timedelta(days=1), upvotes=500)
    html = html_of(client, "/papers/week/2026-W48/")
    assert html.index("Wednesday hit") < html.index("Monday star")
    assert "No votes" not in html and "Last week" not in html
    assert 'href="/papers/week/2026-W47/"' in html
    assert client.get("/papers/week/")["Location"] == "/papers/week/2026-W48/"
    assert client.get("/papers/week/2026-W60/").status_code == 404


def test_the_monthly_page_ranks_the_months_upvoted_papers(client) -> None:
    PaperFactory(title="November paper", announced_on=TUE, upvotes=5)
    PaperFactory(title="December paper", announced_on=dt.date(2026, 12, 1), upvotes=50)
    html = html_of(client, "/papers/month/2026-11/")
    assert "November paper" in html and "December paper" not in html
    assert 'href="/papers/month/2026-10/"' in html and 'href="/papers/month/2026-12/"' in html
    assert client.get("/papers/month/2026-13/").status_code == 404


def test_a_paper_page_has_the_full_abstract_metadata_and_versions(client) -> None:
    PaperFactory(
        arxiv_id="2611.18230",
        version=3,
        title="Self-Correcting Chain-of-Thought",
        abstract="A full abstract. " * 30,
        author_names=[f"Author {n}" for n in range(1, 13)],
        categories=["cs.CL", "cs.AI"],
        announced_on=TUE,
        doi="10.1000/xyz123",
        journal_ref="Journal of Tests 1 (2026)",
        comment="12 pages",
    )
    html = html_of(client, "/papers/2611.18230/")
    assert ("A full abstract. " * 30).strip() in html
    assert "Author 7" in html  # every author, not the card's short list
    assert 'href="https://arxiv.org/abs/2611.18230v3">v3</a>' in html
    assert 'href="https://arxiv.org/abs/2611.18230v1">v1</a>' in html
    assert "Computation and Language" in html and "Journal of Tests" in html and "12 pages" in html
    assert 'href="https://doi.org/10.1000/xyz123"' in html
    assert 'href="/papers/2611.18230/like/"' in html  # a stranger is taken to sign up from there


def test_an_old_style_id_has_its_page(client) -> None:
    PaperFactory(arxiv_id="astro-ph/0601001", title="An old paper", categories=["astro-ph"])
    assert "An old paper" in html_of(client, "/papers/astro-ph/0601001/")
    assert 'href="/papers/astro-ph/0601001/"' in html_of(client, "/search/?q=old+paper")


def test_a_hidden_or_unknown_paper_has_no_page(client) -> None:
    PaperFactory(arxiv_id="2611.00003", hidden=True)
    assert client.get("/papers/2611.00003/").status_code == 404
    assert client.get("/papers/2611.99999/").status_code == 404


def test_similar_papers_share_title_terms_and_category(client) -> None:
    paper = PaperFactory(title="Speculative decoding for transformer inference", categories=["cs.CL"])
    PaperFactory(title="Faster speculative decoding with draft trees", categories=["cs.CL"])
    PaperFactory(title="Speculative decoding in robots", categories=["cs.RO"])
    PaperFactory(title="Protein folding at scale", categories=["cs.CL"])
    html = html_of(client, f"/papers/{paper.arxiv_id}/")
    similar = html.split('id="similar-heading"')[1]
    assert "Faster speculative decoding with draft trees" in similar
    assert "Protein folding" not in similar and "in robots" not in similar


def test_pages_are_cached_until_ingest_changes_the_catalogue(
    client, sample, django_capture_on_commit_callbacks
) -> None:
    PaperFactory(title="Before ingest", announced_on=dt.date(2026, 11, 24), upvotes=1)
    first = client.get("/papers/2026-11-24/")
    second = client.get("/papers/2026-11-24/")
    assert (first["X-Site-Cache"], second["X-Site-Cache"]) == ("miss", "hit")
    assert "public" in second["Cache-Control"] and "max-age=60" in second["Cache-Control"]
    with django_capture_on_commit_callbacks(execute=True):
        papers_store(parsed=feeds.parse(sample("hf_daily_papers_2026-11-24.json")), source="test")
    third = client.get("/papers/2026-11-24/")
    assert third["X-Site-Cache"] == "miss"
    assert "Before ingest" in third.content.decode()
    assert third.content != first.content  # the day's new papers are there


def test_an_editor_hiding_a_paper_takes_it_off_the_cached_page(
    client, django_capture_on_commit_callbacks
) -> None:
    paper = PaperFactory(title="Soon hidden", announced_on=TUE)
    assert "Soon hidden" in html_of(client, "/papers/2026-11-24/")
    paper.hidden = True
    with django_capture_on_commit_callbacks(execute=True):
        paper.save()
    assert "Soon hidden" not in html_of(client, "/papers/2026-11-24/")


def test_cached_pages_carry_no_csrf_token_or_cookie(client) -> None:
    PaperFactory(announced_on=TUE)
    for url in ("/", "/papers/2026-11-24/", "/search/?q=study"):
        response = client.get(url)
        assert "csrfmiddlewaretoken" not in response.content.decode(), url
        assert not response.cookies, url


def test_the_home_page_asks_for_an_address_and_the_signup_form_takes_it(client) -> None:
    html = html_of(client, "/")
    assert '<form method="get" action="/subscribe/" class="cta-form">' in html
    assert 'value="ada@example.org"' in html_of(client, "/subscribe/?email=ada@example.org")


def test_a_paper_page_lists_its_nearest_neighbours_by_meaning(client) -> None:
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    paper = catalogue["robots"][0]
    similar = html_of(client, f"/papers/{paper.arxiv_id}/").split('id="similar-heading"')[1]
    robots = [other.title for other in catalogue["robots"][1:]]
    others = [other.title for theme in ("decoding", "proteins", "climate") for other in catalogue[theme]]
    shown = [title for title in robots + others if title in similar]
    assert shown and shown[0] in robots
    assert all(
        similar.index(robot) < similar.index(other)
        for robot in shown
        if robot in robots
        for other in shown
        if other in others
    )


def test_a_refit_or_new_vectors_make_cached_paper_pages_stale(
    client, django_capture_on_commit_callbacks
) -> None:
    catalogue = themed_catalogue()
    paper = catalogue["decoding"][0]
    url = f"/papers/{paper.arxiv_id}/"
    assert client.get(url)["X-Site-Cache"] == "miss"
    assert client.get(url)["X-Site-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        vectors.embedding_refit()
    after_refit = client.get(url)
    assert after_refit["X-Site-Cache"] == "miss"
    assert "Lookahead verification for low-latency serving" in after_refit.content.decode()
    assert client.get(url)["X-Site-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        vectors.papers_embed(arxiv_ids=[PaperFactory(title="Speculative decoding, again").arxiv_id])
    assert client.get(url)["X-Site-Cache"] == "miss"
