"""Public Atom feeds: a day's papers, a topic's newest papers, a search's newest matches."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from tests.factories import PaperFactory, TopicFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
TUE = dt.date(2026, 11, 24)


def entries(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    return [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]


def test_a_days_feed_lists_its_papers_linking_to_their_pages(client) -> None:
    PaperFactory(arxiv_id="2611.00010", title="Tuesday paper", announced_on=TUE, upvotes=3)
    PaperFactory(title="Monday paper", announced_on=TUE - dt.timedelta(days=1))
    assert entries(client, "/papers/2026-11-24/feed/") == ["Tuesday paper"]
    assert entries(client, "/papers/feed/") == ["Tuesday paper"]
    body = client.get("/papers/2026-11-24/feed/").content.decode()
    assert "https://papers.example.org/papers/2611.00010/" in body


def test_a_day_page_links_its_feed(client) -> None:
    PaperFactory(announced_on=TUE)
    html = client.get("/papers/2026-11-24/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/papers/2026-11-24/feed/"' in html


def test_a_topics_feed_follows_its_categories_and_keywords(client) -> None:
    TopicFactory(slug="parsing", name="Parsing", categories=["cs.CL"], exclude_keywords=["robot"])
    PaperFactory(title="A parsing paper", categories=["cs.CL"], announced_on=TUE)
    PaperFactory(title="A robot paper", categories=["cs.CL"], announced_on=TUE)
    PaperFactory(title="A galaxy paper", categories=["astro-ph.GA"], announced_on=TUE)
    assert entries(client, "/topics/parsing/feed/") == ["A parsing paper"]
    assert client.get("/topics/nope/feed/").status_code == 404


def test_the_signup_page_links_each_topics_feed(client, default_topics) -> None:
    html = client.get("/subscribe/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="papermail: Large language models"' in html
    )


def test_a_search_feed_lists_the_newest_matches(client) -> None:
    PaperFactory(title="Old diffusion paper", announced_on=TUE - dt.timedelta(days=40))
    PaperFactory(title="New diffusion paper", announced_on=TUE)
    PaperFactory(title="Unrelated", announced_on=TUE)
    assert entries(client, "/search/feed/?q=diffusion") == ["New diffusion paper", "Old diffusion paper"]
    assert client.get("/search/feed/?q=").status_code == 404
    assert client.get("/search/feed/?q=" + "x" * 300).status_code == 404
