"""A broken or old link offers "email me a new link": a form that takes the address and mails a fresh
link, answering the same whatever the address."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from subscribers import services
from subscribers.models import ConsentRecord, Subscriber, Suppression
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db

NEW_LINK_FORM = 'action="/subscribe/new-link/"'


def test_it_answers_a_get_with_the_form(client) -> None:
    response = client.get("/subscribe/new-link/")
    html = response.content.decode()
    assert response.status_code == 200
    assert NEW_LINK_FORM in html and 'name="email"' in html and 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/manage/garbage-token-value/",
        "/unsubscribe/garbage-token-value/",
        "/digest/forged-token-1234567890/",
        "/digest/forged-token-1234567890/feedback/1/more/",
    ],
)
def test_a_broken_link_offers_to_email_a_new_one(client, path: str) -> None:
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 404
    assert NEW_LINK_FORM in html and 'name="email"' in html and "Email me a new link" in html


def test_a_link_to_an_erased_subscription_offers_a_new_one(client, post, active) -> None:
    manage = link("manage", _manage_link_email(post))
    post(manage + "erase/", {"confirm": "erase"})
    html = client.get(manage).content.decode()
    assert NEW_LINK_FORM in html


def _manage_link_email(post, email: str = "ada@example.org") -> mail.EmailMessage:
    mail.outbox.clear()
    response = post("/subscribe/new-link/", {"email": email})
    assert response.status_code == 302 and response["Location"] == "/subscribe/check-your-inbox/"
    [message] = mail.outbox
    return message


def test_an_active_subscriber_is_mailed_a_fresh_manage_link(client, post, active) -> None:
    message = _manage_link_email(post)
    assert message.to == ["ada@example.org"] and message.subject == "Your papermail subscription"
    assert client.get(link("manage", message)).status_code == 200
    assert ConsentRecord.objects.count() == 1  # asking for a link is not a sign-up


def test_an_unsubscribed_reader_is_mailed_a_manage_link_to_come_back(client, post, active) -> None:
    services.subscriber_unsubscribe(subscriber=active, request=services.RequestInfo())
    message = _manage_link_email(post)
    page = client.get(link("manage", message)).content.decode()
    assert "You are unsubscribed" in page and "Subscribe again" in page


def test_a_reader_who_never_confirmed_is_mailed_the_confirmation_again(post, signup) -> None:
    signup(keywords="reasoning")
    message = _manage_link_email(post)
    assert message.subject == "Confirm your papermail subscription"
    post(link("confirm", message))
    assert Subscriber.objects.get().keywords == ["reasoning"]


def test_the_answer_is_the_same_for_any_address(client, post, signup, active) -> None:
    signup("pending@example.org")
    Suppression.objects.create(email_hash="0" * 64, reason="erased")
    answers = set()
    for email in ("ada@example.org", "pending@example.org", "nobody@example.org"):
        response = post("/subscribe/new-link/", {"email": email})
        page = client.get(response["Location"])
        answers.add((response.status_code, response["Location"], page.content.decode()))
    assert len(answers) == 1


def test_new_links_to_one_address_are_rate_limited(post, active, settings) -> None:
    settings.RATE_LINK_EMAILS_PER_ADDRESS = "3/h"
    cache.clear()  # forget the sign-up's confirmation email
    for _ in range(5):
        assert post("/subscribe/new-link/", {"email": "ada@example.org"}).status_code == 302
    assert len(mail.outbox) == 3


def test_a_bad_address_is_refused_on_the_form_page(client) -> None:
    response = client.post("/subscribe/new-link/", {"email": "not-an-address"})
    assert response.status_code == 400
    html = response.content.decode()
    assert NEW_LINK_FORM in html and "Enter a valid email address" in html
    assert not mail.outbox


def test_the_form_needs_a_csrf_token(active) -> None:
    response = Client(enforce_csrf_checks=True).post("/subscribe/new-link/", {"email": "ada@example.org"})
    assert response.status_code == 403
