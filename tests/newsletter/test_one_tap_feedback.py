"""The digest's "more/less like this" link: a GET changes nothing, one button press records the choice
and shows what changed with an undo, and a GET on a rated paper shows the rating to change or undo."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from newsletter.models import Delivery, DeliveryItem, Edition
from subscribers import links
from subscribers.models import Feedback, Subscriber
from tests.factories import PaperFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def sent_digest(subscriber: Subscriber, papers: list, day: int = 24) -> Delivery:
    edition, _ = Edition.objects.get_or_create(cadence="daily", date=dt.date(2026, 11, day))
    delivery = Delivery.objects.create(
        subscriber=subscriber, edition=edition, state="sent", sent_at=timezone.now() + dt.timedelta(days=day)
    )
    for position, paper in enumerate(papers):
        DeliveryItem.objects.create(delivery=delivery, paper=paper, position=position, why="matches")
    return delivery


@pytest.fixture
def reader() -> Subscriber:
    return SubscriberFactory(email="ada@example.org")


@pytest.fixture
def paper():
    return PaperFactory(title="Self-Correcting Chain-of-Thought", categories=["cs.CL"])


def feedback_url(reader: Subscriber, paper, direction: str = "more") -> str:
    delivery = Delivery.objects.filter(subscriber=reader).first() or sent_digest(reader, [paper])
    token = links.mail_links(reader, delivery_id=delivery.pk).delivery_token
    return f"/digest/{token}/feedback/{paper.pk}/{direction}/"


def rating(reader: Subscriber, paper) -> tuple[int, str] | None:
    return Feedback.objects.filter(subscriber=reader, paper=paper).values_list("value", "source").first()


def test_it_changes_nothing_on_a_get_and_offers_one_focused_button(client, reader, paper) -> None:
    html = client.get(feedback_url(reader, paper)).content.decode()
    assert "More papers like this?" in html and "Self-Correcting Chain-of-Thought" in html
    main = html[html.index('<main id="main"') :]  # the site's header search has its own button
    assert main.count('type="submit"') == 1 and "autofocus>Yes, more like this</button>" in html
    assert rating(reader, paper) is None


def test_one_press_records_the_choice_and_shows_it_with_an_undo(client, reader, paper) -> None:
    response = client.post(feedback_url(reader, paper))
    html = response.content.decode()
    assert response.status_code == 200 and "Saved: more like this" in html
    assert "Self-Correcting Chain-of-Thought" in html
    assert "Your rating: <strong>more like this</strong>" in html
    assert 'name="action" value="undo"' in html and 'name="previous" value="none"' in html
    assert rating(reader, paper) == (1, "digest")


def test_undo_after_a_first_rating_forgets_it(client, reader, paper) -> None:
    url = feedback_url(reader, paper)
    client.post(url)
    html = client.post(url, {"action": "undo", "previous": "none"}).content.decode()
    assert "Undone" in html and "no rating from you now" in html
    assert rating(reader, paper) is None


def test_undo_after_changing_a_rating_restores_the_one_before(client, reader, paper) -> None:
    Feedback.objects.create(subscriber=reader, paper=paper, value=-1, source="site")
    url = feedback_url(reader, paper, "more")
    html = client.post(url).content.decode()
    assert 'name="previous" value="less"' in html and rating(reader, paper) == (1, "digest")
    client.post(url, {"action": "undo", "previous": "less"})
    assert rating(reader, paper) == (-1, "digest")


def test_a_get_on_a_paper_rated_the_same_way_shows_the_rating_with_change_and_undo(
    client, reader, paper
) -> None:
    Feedback.objects.create(subscriber=reader, paper=paper, value=1)
    html = client.get(feedback_url(reader, paper, "more")).content.decode()
    assert "You asked for more papers like this" in html
    assert "Change to less like this" in html and "Undo my rating" in html
    assert f"/feedback/{paper.pk}/less/" in html
    assert rating(reader, paper) == (1, "digest")


def test_a_get_on_a_paper_rated_the_other_way_offers_to_change_it(client, reader, paper) -> None:
    Feedback.objects.create(subscriber=reader, paper=paper, value=-1)
    html = client.get(feedback_url(reader, paper, "more")).content.decode()
    assert "Change to more like this?" in html and "You said <strong>less like this</strong> before" in html
    assert "Remove my rating" in html and rating(reader, paper) == (-1, "digest")


def test_remove_forgets_the_rating(client, reader, paper) -> None:
    Feedback.objects.create(subscriber=reader, paper=paper, value=1)
    html = client.post(feedback_url(reader, paper), {"action": "remove"}).content.decode()
    assert "Your rating was removed" in html and rating(reader, paper) is None


def test_a_made_up_previous_rating_is_refused(client, reader, paper) -> None:
    response = client.post(feedback_url(reader, paper), {"action": "undo", "previous": "love"})
    assert response.status_code == 400 and rating(reader, paper) is None


def test_the_title_is_escaped(client, reader) -> None:
    paper = PaperFactory(title="<img src=x onerror=alert(1)>")
    html = client.get(feedback_url(reader, paper)).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
