"""The site's "Get papers like this": a reader recognised in this browser adds the paper with one press;
anyone else starts a sign-up that names it."""

from __future__ import annotations

import pytest
from django.test import Client

from subscribers import browser
from subscribers.models import Feedback, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def manage_path(subscriber: Subscriber) -> str:
    return f"/manage/{make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)}/"


@pytest.fixture
def paper():  # type: ignore[no-untyped-def]
    return PaperFactory(arxiv_id="2611.00042", title="Sparse Attention for Long Documents")


@pytest.fixture
def reader() -> Subscriber:
    return SubscriberFactory(email="ada.lovelace@example.org", status=Subscriber.Status.ACTIVE)


def recognising(client: Client, subscriber: Subscriber) -> Client:
    """Open the preference centre from the emailed link, as the reader does, in this browser."""
    assert client.get(manage_path(subscriber)).status_code == 200
    return client


def test_opening_the_preference_centre_leaves_a_cookie_scripts_and_other_sites_cannot_use(reader) -> None:
    page = Client().get(manage_path(reader))
    cookie = page.cookies[browser.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 0
    assert reader.email not in cookie.value and "example.org" not in cookie.value


def test_a_recognised_reader_adds_the_paper_with_one_press_and_can_undo_it(reader, paper) -> None:
    client = recognising(Client(), reader)
    page = client.get(f"/papers/{paper.arxiv_id}/like/")
    html = page.content.decode()
    assert page.status_code == 200 and paper.title in html and "a…a@example.org" not in html
    assert "a…e@example.org" in html and "Yes, papers like this" in html
    assert not Feedback.objects.exists()  # a GET changes nothing
    assert "no-cache" in page["Cache-Control"] and "Cookie" in page["Vary"]

    done = client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "like"})
    assert "Added to the papers you like" in done.content.decode()
    assert list(reader.feedback.values_list("paper__arxiv_id", "value", "source")) == [
        (paper.arxiv_id, Feedback.Value.MORE, Feedback.Source.SEED)
    ]
    again = client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "like"})
    assert "Already one of the papers you like" in again.content.decode()
    assert reader.feedback.count() == 1

    undone = client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "undo"})
    assert "Removed from the papers you like" in undone.content.decode()
    assert not reader.feedback.exists()


def test_anyone_else_is_taken_to_sign_up_with_the_paper_named(paper) -> None:
    page = Client().get(f"/papers/{paper.arxiv_id}/like/")
    assert page.status_code == 302 and page["Location"] == f"/subscribe/?like={paper.arxiv_id}"


@pytest.mark.parametrize(
    "cookie",
    [
        "forged",
        make_token(Purpose.MANAGE, subscriber_id=1, email="ada.lovelace@example.org"),  # another purpose
        "x" * 5000,
    ],
)
def test_a_forged_or_borrowed_cookie_recognises_no_one(reader, paper, cookie: str) -> None:
    client = Client()
    client.cookies[browser.COOKIE] = cookie
    assert client.get(f"/papers/{paper.arxiv_id}/like/").status_code == 302
    assert client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "like"}).status_code == 302
    assert not Feedback.objects.exists()


def test_an_unsubscribed_or_erased_reader_is_no_longer_recognised(reader, paper) -> None:
    client = recognising(Client(), reader)
    Subscriber.objects.filter(pk=reader.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    assert client.get(f"/papers/{paper.arxiv_id}/like/").status_code == 302
    erased = {"status": Subscriber.Status.ACTIVE, "email": "someone.else@example.org"}
    Subscriber.objects.filter(pk=reader.pk).update(**erased)
    assert client.get(f"/papers/{paper.arxiv_id}/like/").status_code == 302  # its address tag differs


def test_not_you_forgets_the_browser(reader, paper) -> None:
    client = recognising(Client(), reader)
    page = client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "forget"})
    assert page.status_code == 302 and page["Location"] == f"/papers/{paper.arxiv_id}/"
    assert client.get(f"/papers/{paper.arxiv_id}/like/").status_code == 302
    assert not Feedback.objects.exists()


def test_the_press_needs_the_pages_csrf_token(reader, paper) -> None:
    client = recognising(Client(enforce_csrf_checks=True), reader)
    assert client.post(f"/papers/{paper.arxiv_id}/like/", {"action": "like"}).status_code == 403
    assert not Feedback.objects.exists()


def test_the_paper_page_offers_it(paper) -> None:
    html = Client().get(f"/papers/{paper.arxiv_id}/").content.decode()
    assert f'href="/papers/{paper.arxiv_id}/like/"' in html


def test_a_paper_not_in_the_catalogue_is_a_404(reader) -> None:
    client = recognising(Client(), reader)
    assert client.get("/papers/2611.99999/like/").status_code == 404


# --- "Email me new papers matching this search" -------------------------------------------------------


def test_a_recognised_reader_follows_a_search_with_one_press_and_can_undo_it(reader) -> None:
    client = recognising(Client(), reader)
    page = client.get("/search/save/", {"q": "sparse attention", "category": "cs.CL"})
    html = page.content.decode()
    assert page.status_code == 200 and "“sparse attention” in cs.CL" in html and "a…e@example.org" in html
    assert not reader.saved_searches.exists()  # a GET changes nothing

    done = client.post("/search/save/", {"q": "sparse attention", "category": "cs.CL", "action": "save"})
    assert "You follow this search now" in done.content.decode()
    assert list(reader.saved_searches.values_list("query", "filters")) == [
        ("sparse attention", {"category": "cs.CL"})
    ]
    client.post("/search/save/", {"q": "sparse attention", "category": "cs.CL", "action": "save"})
    assert reader.saved_searches.count() == 1

    undone = client.post("/search/save/", {"q": "sparse attention", "category": "cs.CL", "action": "undo"})
    assert "You no longer follow this search" in undone.content.decode()
    assert not reader.saved_searches.exists()


def test_anyone_else_is_taken_to_sign_up_with_the_search_named() -> None:
    page = Client().get("/search/save/", {"q": "sparse attention", "category": "cs.CL"})
    assert page.status_code == 302
    assert page["Location"] == "/subscribe/?search=sparse+attention&category=cs.CL"


@pytest.mark.parametrize(
    ("query", "category", "says"),
    [("", "", "Type a few words"), ("attention", "not.a.category", "Choose a category")],
)
def test_a_search_that_cannot_be_followed_says_why_and_saves_nothing(reader, query, category, says) -> None:
    client = recognising(Client(), reader)
    page = client.post("/search/save/", {"q": query, "category": category, "action": "save"})
    assert page.status_code == 400 and says in page.content.decode()
    assert not reader.saved_searches.exists()


def test_the_search_page_offers_it(paper) -> None:
    html = Client().get("/search/", {"q": "sparse attention"}).content.decode()
    assert 'href="/search/save/?q=sparse%20attention"' in html
