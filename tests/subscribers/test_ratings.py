"""The preference centre lists the papers of the reader's recent digests with their ratings, to rate,
change or undo each with one small form per row."""

from __future__ import annotations

import pytest
from django.test import Client

from subscribers.models import Feedback, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.factories import PaperFactory, SubscriberFactory
from tests.newsletter.test_one_tap_feedback import sent_digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader() -> Subscriber:
    return SubscriberFactory(email="ada@example.org")


def manage_path(subscriber: Subscriber) -> str:
    return f"/manage/{make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)}/"


def rate(client: Client, reader: Subscriber, paper, choice: str):
    return client.post(f"{manage_path(reader)}rate/{paper.pk}/", {"rating": choice})


def ratings(reader: Subscriber) -> dict[str, tuple[int, str]]:
    return {f.paper.title: (f.value, f.source) for f in reader.feedback.select_related("paper")}


def test_it_lists_the_papers_of_recent_digests_with_their_ratings(client, reader) -> None:
    first, second = PaperFactory(title="First paper"), PaperFactory(title="Second paper")
    sent_digest(reader, [first, second])
    Feedback.objects.create(subscriber=reader, paper=second, value=-1)
    html = client.get(manage_path(reader)).content.decode()
    assert "Your recent papers" in html
    assert html.index("First paper") < html.index("Second paper")
    assert 'aria-label="More like this: First paper"' in html and "Not rated" in html
    assert 'aria-label="Undo rating: Second paper"' in html and "Less like this</span>" in html


def test_it_rates_changes_and_undoes_a_paper_from_the_list(client, reader) -> None:
    paper = PaperFactory(title="A paper")
    sent_digest(reader, [paper])
    response = rate(client, reader, paper, "more")
    assert response.status_code == 302 and response["Location"].endswith("?done=rated#papers")
    assert ratings(reader) == {"A paper": (1, "site")}
    rate(client, reader, paper, "less")
    assert ratings(reader) == {"A paper": (-1, "site")}
    rate(client, reader, paper, "none")
    assert ratings(reader) == {}
    assert "Rating saved." in client.get(manage_path(reader) + "?done=rated").content.decode()


def test_a_paper_never_sent_nor_rated_cannot_be_rated_here(client, reader) -> None:
    stranger = PaperFactory(title="Never sent")
    rate(client, reader, stranger, "more")
    assert ratings(reader) == {}


def test_another_readers_digest_does_not_make_a_paper_rateable(client, reader) -> None:
    paper = PaperFactory()
    sent_digest(SubscriberFactory(email="bob@example.org"), [paper])
    rate(client, reader, paper, "more")
    assert ratings(reader) == {}


def test_seed_papers_are_listed_apart_with_a_remove_button(client, reader) -> None:
    seed = PaperFactory(title="A seed paper")
    Feedback.objects.create(subscriber=reader, paper=seed, value=1, source="seed")
    html = client.get(manage_path(reader)).content.decode()
    assert 'aria-label="Remove: A seed paper"' in html and "You like this" in html
    rate(client, reader, seed, "none")
    assert ratings(reader) == {}


def test_rating_needs_a_post_with_the_csrf_token(reader) -> None:
    paper = PaperFactory()
    sent_digest(reader, [paper])
    strict = Client(enforce_csrf_checks=True)
    assert strict.get(f"{manage_path(reader)}rate/{paper.pk}/").status_code == 405
    assert strict.post(f"{manage_path(reader)}rate/{paper.pk}/", {"rating": "more"}).status_code == 403
    assert ratings(reader) == {}


def test_the_list_is_bounded_and_its_queries_do_not_grow_with_the_history(
    client, reader, django_assert_max_num_queries
) -> None:
    for day in range(1, 4):
        sent_digest(reader, [PaperFactory() for _ in range(10)], day=day)
    with django_assert_max_num_queries(20) as few:
        client.get(manage_path(reader))
    for day in range(4, 25):
        sent_digest(reader, [PaperFactory() for _ in range(10)], day=day)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(manage_path(reader)).content.decode()
    assert html.count('aria-label="More like this:') == 50
