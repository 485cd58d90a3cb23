"""From the site to the inbox: "Email me new papers matching this search", "Get papers like this",
arXiv categories and how many papers, through the double opt-in or the preference centre."""

from __future__ import annotations

import pytest
from django.core import mail

from newsletter.link_emails import link_emails_sweep
from subscribers.links import manage_path
from subscribers.models import ConsentRecord, Feedback, SavedSearch, Subscriber
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
BASE = {"cadence": "daily", "timezone": "UTC", "send_hour": "7"}


def confirm_latest(client) -> Subscriber:
    """Send the owed confirmation email and press its button."""
    link_emails_sweep()
    path = next(w for w in mail.outbox[-1].body.split() if "/confirm/" in w).split("papers.example.org")[-1]
    assert client.post(path).status_code == 200
    return Subscriber.objects.get(email=mail.outbox[-1].to[0])


def test_a_search_becomes_a_saved_search_once_the_address_confirms(client) -> None:
    page = client.get("/subscribe/", {"search": "state space model", "category": "cs.LG"}).content.decode()
    assert "Following the search <strong>“state space model”</strong> in cs.LG" in page
    response = client.post(
        "/subscribe/",
        {"email": "ada@example.org", "search_query": "state space model", "search_category": "cs.LG", **BASE},
    )
    assert response.status_code == 302
    consent = ConsentRecord.objects.get()
    assert consent.requested_preferences["saved_searches"] == [
        {"query": "state space model", "category": "cs.LG"}
    ]
    assert not SavedSearch.objects.exists()  # nothing applies before confirmation
    subscriber = confirm_latest(client)
    saved = subscriber.saved_searches.get()
    assert (saved.query, saved.filters) == ("state space model", {"category": "cs.LG"})


def test_the_confirmation_email_counts_the_search_and_the_page_spells_it_out(client) -> None:
    client.post("/subscribe/", {"email": "ada@example.org", "search_query": "secret words", **BASE})
    link_emails_sweep()
    message = mail.outbox[-1]
    assert "secret words" not in message.body and "1 saved search" in message.body
    path = next(w for w in message.body.split() if "/confirm/" in w).split("papers.example.org")[-1]
    assert "“secret words”" in client.get(path).content.decode()


def test_a_paper_to_start_from_is_a_seed_liked_once_the_address_confirms(client) -> None:
    paper = PaperFactory(arxiv_id="2611.18230", title="Self-Correcting Chain-of-Thought")
    page = client.get("/subscribe/", {"like": "2611.18230"}).content.decode()
    assert "Starting from a paper you like: <strong>Self-Correcting Chain-of-Thought</strong>" in page
    assert ">\n2611.18230</textarea>" in page  # "Get papers like this" fills in the sign-up's seed papers
    client.post("/subscribe/", {"email": "ada@example.org", "seed_papers": "2611.18230", **BASE})
    assert ConsentRecord.objects.get().requested_preferences["seed_papers"] == ["2611.18230"]
    assert not Feedback.objects.exists()
    subscriber = confirm_latest(client)
    liked = Feedback.objects.get(subscriber=subscriber)
    assert (liked.paper, liked.value, liked.source) == (paper, Feedback.Value.MORE, Feedback.Source.SEED)


def test_a_seed_that_is_not_an_arxiv_id_is_refused(client) -> None:
    response = client.post("/subscribe/", {"email": "ada@example.org", "seed_papers": "<script>", **BASE})
    assert response.status_code == 400 and not Subscriber.objects.exists()


def test_a_like_link_that_is_not_an_arxiv_id_names_no_paper(client) -> None:
    page = client.get("/subscribe/", {"like": "<script>"}).content.decode()
    assert "Starting from a paper you like" not in page and "<script>" not in page


def test_a_reader_can_follow_arxiv_categories_without_crosslists_and_choose_how_many(client) -> None:
    page = client.get("/subscribe/").content.decode()
    assert "Computation and Language" in page and "High Energy Physics - Theory" in page
    assert "<h3>Physics</h3>" in page and "data-category-filter" in page
    data = {"email": "ada@example.org", "categories": ["hep-th", "cs.CL"], "include_crosslists": "False"}
    assert client.post("/subscribe/", {**data, "max_papers": "15", **BASE}).status_code == 302
    subscriber = confirm_latest(client)
    assert subscriber.categories == ["hep-th", "cs.CL"]
    assert subscriber.include_crosslists is False and subscriber.max_papers == 15


def test_an_unknown_category_is_refused(client) -> None:
    response = client.post("/subscribe/", {"email": "ada@example.org", "categories": ["cs.NOPE"], **BASE})
    assert response.status_code == 400 and not Subscriber.objects.exists()


def test_weekly_readers_choose_their_weekday_at_signup(client) -> None:
    data = {
        "email": "ada@example.org",
        "categories": ["cs.CL"],
        **BASE,
        "cadence": "weekly",
        "send_weekday": "4",
    }
    client.post("/subscribe/", data)
    assert confirm_latest(client).send_weekday == 4


def test_the_preference_centre_lists_adds_and_removes_saved_searches(client) -> None:
    reader = SubscriberFactory(email="ada@example.org", keywords=["reasoning"])
    manage = manage_path(reader)
    assert client.get(manage, {"search": "diffusion"}).content.decode().count('value="diffusion"') == 1
    response = client.post(manage + "searches/", {"query": "diffusion", "category": "cs.CV"})
    assert response.status_code == 302
    saved = reader.saved_searches.get()
    assert "“diffusion” in cs.CV" in client.get(manage).content.decode()
    client.post(manage + "searches/", {"query": "diffusion", "category": "cs.CV"})  # the same again
    assert reader.saved_searches.count() == 1
    client.post(f"{manage}searches/{saved.pk}/remove/")
    assert not reader.saved_searches.exists()


@pytest.mark.parametrize(
    ("query", "category"), [("", ""), ("the of", ""), ("ok words", "cs.NOPE"), ("a\nb", ""), ("x" * 201, "")]
)
def test_a_saved_search_that_cannot_be_kept_is_refused_and_changes_nothing(client, query, category) -> None:
    reader = SubscriberFactory(email="ada@example.org", keywords=["reasoning"])
    response = client.post(manage_path(reader) + "searches/", {"query": query, "category": category})
    assert response.status_code == 400 and not SavedSearch.objects.exists()


def test_a_reader_cannot_remove_someone_elses_saved_search(client) -> None:
    ada = SubscriberFactory(email="ada@example.org", keywords=["x"])
    bob = SubscriberFactory(email="bob@example.org", keywords=["x"])
    theirs = SavedSearch.objects.create(subscriber=bob, query="diffusion")
    client.post(f"{manage_path(ada)}searches/{theirs.pk}/remove/")
    assert SavedSearch.objects.filter(pk=theirs.pk).exists()


def test_a_subscriber_adds_a_paper_they_like_in_the_preference_centres_one_papers_you_like(client) -> None:
    paper = PaperFactory(arxiv_id="2611.18230")
    reader = SubscriberFactory(email="ada@example.org", keywords=["reasoning"])
    page = client.get(manage_path(reader), {"like": "2611.18230"}).content.decode()
    assert page.count("Papers you like") == 1 and ">\n2611.18230</textarea>" in page
    response = client.post(
        manage_path(reader) + "papers/", {"seed_papers": "https://arxiv.org/abs/2611.18230v2"}
    )
    assert response.status_code == 200
    liked = Feedback.objects.get(subscriber=reader)
    assert (liked.paper, liked.source) == (paper, Feedback.Source.SEED)


def test_categories_and_crosslists_are_saved_in_the_preference_centre(client) -> None:
    reader = SubscriberFactory(email="ada@example.org", keywords=["reasoning"])
    data = {
        "keywords": "reasoning",
        "categories": ["math.AG"],
        "include_crosslists": "False",
        "max_papers": "5",
    }
    assert client.post(manage_path(reader), {**data, **BASE}).status_code == 302
    reader.refresh_from_db()
    assert (reader.categories, reader.include_crosslists, reader.max_papers) == (["math.AG"], False, 5)
