"""Signing up: the form, validation, no enumeration, honeypot, rate limits, CSRF."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_script_prefix

from papers.models import Topic
from subscribers.models import ConsentRecord, LinkEmail, Subscriber, SubscriberEvent, Suppression
from subscribers.preferences import Preferences
from subscribers.services import RequestInfo
from subscribers.signup import CONSENT_WORDING, CONSENT_WORDING_VERSION, subscription_request
from subscribers.tokens import email_hash
from tests.concurrency import at_once
from tests.subscribers.conftest import link, links_in

pytestmark = pytest.mark.django_db


def test_the_form_has_the_interface_fields_and_nothing_preticked(client) -> None:
    html = client.get("/subscribe/").content.decode()
    for name in ("email", "topics", "keywords", "authors", "cadence", "timezone", "send_hour"):
        assert f'name="{name}"' in html, name
    topic_boxes = [line for line in html.splitlines() if 'name="topics"' in line]
    assert len(topic_boxes) >= 8 and not any("checked" in line for line in topic_boxes)
    assert '<option value="7" selected>07:00</option>' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_zone_chosen_on_one_form_is_not_carried_to_the_next(client) -> None:
    from subscribers.forms import SignupForm

    chosen = SignupForm(data={"timezone": "Asia/Tokyo"})  # a bound form marks the zone as chosen
    blank = SignupForm()
    assert chosen.fields["timezone"].widget.attrs.get("data-chosen") == "1"
    assert "data-chosen" not in blank.fields["timezone"].widget.attrs
    html = client.get("/subscribe/").content.decode()
    assert "data-chosen" not in html  # nothing carried over from the forms above
    assert '<option value="Asia/Tokyo">Asia/Tokyo</option>' in html


def test_served_under_a_path_prefix_a_sign_up_is_sent_on_under_it(post) -> None:
    data = {
        "email": "ada@example.org",
        "topics": ["llm"],
        "cadence": "daily",
        "timezone": "UTC",
        "send_hour": "7",
    }
    with override_script_prefix("/papers/"):  # as SCRIPT_NAME sets it behind a proxy
        under_prefix = post("/subscribe/", data)
    at_root = post("/subscribe/", {**data, "email": "bob@example.org"})
    assert under_prefix["Location"] == "/papers/subscribe/check-your-inbox/"
    assert at_root["Location"] == "/subscribe/check-your-inbox/"


def test_the_home_page_embeds_the_form(client) -> None:
    html = client.get("/").content.decode()
    assert 'action="/subscribe/"' in html and 'name="email"' in html


def test_a_new_address_gets_a_two_part_confirmation_email(signup) -> None:
    response = signup(
        "ada@example.org", keywords='reasoning, "state space model", -robotics', authors="Yann LeCun"
    )
    assert response.status_code == 302 and response["Location"] == "/subscribe/check-your-inbox/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"]
    assert message.subject == "Confirm your papermail subscription"
    assert message.alternatives[0][1] == "text/html"
    assert link("confirm", message).startswith("/confirm/")
    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.keywords == []  # nothing applies before confirmation


def test_the_consent_record_keeps_what_gdpr_needs(signup) -> None:
    signup("ada@example.org", keywords="reasoning")
    consent = ConsentRecord.objects.get(subscriber__email="ada@example.org")
    assert consent.submitted_ip == "203.0.113.7"
    assert consent.submitted_user_agent == "Mozilla/5.0 (test)"
    assert (consent.form_id, consent.wording_version, consent.wording) == (
        "signup-web",
        CONSENT_WORDING_VERSION,
        CONSENT_WORDING,
    )
    assert consent.requested_preferences["keywords"] == ["reasoning"]
    assert consent.requested_preferences["topics"] == ["llm"]
    assert consent.confirmed_at is None
    kinds = list(SubscriberEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["subscribed", "confirmation_sent"]


def _final_page(client: Client, response) -> tuple[int, str, str]:
    page = client.get(response["Location"])
    return response.status_code, response["Location"], page.content.decode()


def test_the_response_is_the_same_for_known_and_unknown_addresses(client, signup, post) -> None:
    signup("active@example.org")
    post(link("confirm"))
    signup("pending@example.org")
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason="erased")
    outcomes = {
        email: _final_page(client, signup(email))
        for email in ("new@example.org", "active@example.org", "pending@example.org", "gone@example.org")
    }
    assert len(set(outcomes.values())) == 1


def test_an_active_subscriber_is_asked_to_confirm_new_choices_not_to_subscribe(active, signup) -> None:
    signup("ada@example.org", topics=["robotics"])
    assert [m.subject for m in mail.outbox] == ["Confirm the new choices for your papermail subscription"]
    active.refresh_from_db()
    assert list(active.topics.values_list("slug", flat=True)) == ["llm"]  # unchanged by a stranger's form


def test_an_erased_address_must_confirm_afresh(signup) -> None:
    # A bounced or complained address is sent nothing at all (test_suppressed.py).
    Suppression.objects.create(email_hash=email_hash("erased@example.org"), reason="erased")
    signup("erased@example.org")
    assert mail.outbox[-1].subject == "Confirm your papermail subscription"
    assert Subscriber.objects.get(email="erased@example.org").status == Subscriber.Status.PENDING


def test_it_requires_a_topic_a_category_a_keyword_or_an_author(signup) -> None:
    response = signup("ada@example.org", topics=[], keywords="-robotics", authors="")
    assert response.status_code == 400
    assert "Choose at least one topic, category, keyword or author" in response.content.decode()
    assert not Subscriber.objects.exists() and not mail.outbox


def test_a_signup_does_not_read_the_topics_again(client) -> None:
    client.get("/subscribe/")
    data = {
        "email": "ada@example.org",
        "topics": ["llm", "robotics", "computer-vision"],
        "cadence": "daily",
        "timezone": "UTC",
        "send_hour": "7",
    }
    with CaptureQueriesContext(connection) as queries:  # the request; its email is the sweep's to write
        assert client.post("/subscribe/", data).status_code == 302
    assert not [q["sql"] for q in queries if 'FROM "subscribers_topic"' in q["sql"]]


def stored(email: str) -> dict[str, object]:
    """Everything a sign-up wrote for ``email``, without ids and times."""
    subscriber = Subscriber.objects.get(email=email)
    consent = ConsentRecord.objects.filter(subscriber=subscriber).values().get()
    return {
        "subscriber": {
            k: v
            for k, v in Subscriber.objects.filter(pk=subscriber.pk).values().get().items()
            if k not in ("id", "email", "created_at")
        },
        "consent": {k: v for k, v in consent.items() if k not in ("id", "subscriber_id", "submitted_at")},
        "events": sorted(
            (kind, ip, {k: v for k, v in detail.items() if k != "consent"})
            for kind, ip, detail in SubscriberEvent.objects.filter(subscriber=subscriber).values_list(
                "kind", "ip", "detail"
            )
        ),
        "link_emails": list(
            LinkEmail.objects.filter(subscriber=subscriber, consent_id=consent["id"]).values_list(
                "kind", "state", "attempts"
            )
        ),
    }


@pytest.mark.postgres
def test_a_new_address_is_stored_in_one_statement_with_what_the_general_path_writes(
    signup, monkeypatch
) -> None:
    with CaptureQueriesContext(connection) as queries:
        signup("ada@example.org", keywords="reasoning")
    # The request's own writes; the confirmation's worker (run here on commit) writes after them.
    request_writes = [
        q["sql"] for q in queries[: next(i for i, q in enumerate(queries) if "WITH r0" in q["sql"]) + 1]
    ]
    assert [sql for sql in request_writes if "INSERT" in sql or "UPDATE" in sql] == [request_writes[-1]]
    assert request_writes[-1].startswith("WITH r0 AS (INSERT INTO")
    # The same sign-up through the general path (a transaction of several statements).
    monkeypatch.setattr("subscribers.signup._new_address_signup", lambda *args: False)
    signup("bob@example.org", keywords="reasoning")
    assert stored("ada@example.org") == stored("bob@example.org")
    assert stored("ada@example.org")["link_emails"] == [("confirmation", "sent", 1)]
    assert len(mail.outbox) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_of_one_new_address_at_once_make_one_subscriber(default_topics) -> None:
    def sign_up() -> None:
        subscription_request(
            email="ada@example.org",
            preferences=Preferences(topics=["llm"]),
            request=RequestInfo(ip="203.0.113.7"),
        )

    errors = [outcome for outcome in at_once(sign_up, sign_up) if isinstance(outcome, BaseException)]
    assert errors == []
    assert Subscriber.objects.filter(email="ada@example.org").count() == 1
    assert ConsentRecord.objects.count() == 2  # both sign-ups are on record
    assert LinkEmail.objects.filter(kind=LinkEmail.Kind.CONFIRMATION).count() == 2


def test_a_topic_added_or_withdrawn_in_the_admin_shows_on_the_form_at_once(client, signup) -> None:
    client.get("/subscribe/")  # the form's topics are now kept in this process
    Topic.objects.create(name="Quantum machine learning", slug="quantum-ml", position=99)
    assert 'value="quantum-ml"' in client.get("/subscribe/").content.decode()
    Topic.objects.filter(slug="llm").get().delete()
    response = signup("ada@example.org", topics=["llm"])
    assert response.status_code == 400 and "Select a valid choice" in str(response.context["form"].errors)
    assert signup("ada@example.org", topics=["quantum-ml"]).status_code == 302


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "ada@example.org\r\nBcc: victim@example.org"}, "email", "Line breaks"),
        ({"email": "ada@example.org\nX-Injected: 1"}, "email", "Line breaks"),
        ({"keywords": "reasoning\r\nBcc: x@example.org"}, "keywords", "Line breaks"),
        ({"authors": "Yann LeCun\x00"}, "authors", "control characters"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address"),
        ({"email": "a" * 250 + "@example.org"}, "email", "at most 254 characters"),
        ({"keywords": "x" * 601}, "keywords", "at most 600 characters"),
        ({"keywords": "y" * 70}, "keywords", "too long"),
        ({"keywords": ",".join(f"k{i}" for i in range(21))}, "keywords", "Up to 20 keywords"),
        ({"topics": ["no-such-topic"]}, "topics", "Select a valid choice"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Select a valid choice"),
        ({"send_hour": "24"}, "send_hour", "Select a valid choice"),
        ({"cadence": "hourly"}, "cadence", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(
    signup, fields: dict[str, object], field: str, message: str
) -> None:
    response = signup(**{"email": "ada@example.org", **fields})
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors and message in " ".join(form.errors[field]), form.errors
    assert not Subscriber.objects.exists() and not mail.outbox


def test_hostile_input_is_shown_back_escaped(signup) -> None:
    response = signup(
        "ada@example.org", topics=[], keywords="", authors='<script>alert("x")</script>' + "z" * 100
    )
    html = response.content.decode()
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_it_normalises_the_address_keywords_and_authors(signup, post) -> None:
    signup(
        "  Ada@Example.ORG ",
        keywords=' Reasoning ,  "state   space model", -Robotics, reasoning',
        authors="Yann LeCun, yann lecun,  Fei-Fei   Li",
    )
    post(link("confirm"))
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ada@example.org"
    assert subscriber.keywords == ["Reasoning", "state space model"]
    assert subscriber.excluded_keywords == ["Robotics"]
    assert subscriber.authors == ["Yann LeCun", "Fei-Fei Li"]


def test_the_honeypot_looks_like_success_and_does_nothing(signup) -> None:
    response = signup("bot@example.org", website="http://spam.example")
    assert response.status_code == 302 and response["Location"] == "/subscribe/check-your-inbox/"
    assert not Subscriber.objects.exists() and not mail.outbox


def test_emails_to_one_address_are_rate_limited(signup, settings) -> None:
    settings.RATE_LINK_EMAILS_PER_ADDRESS = "3/h"
    for _ in range(5):
        assert signup("ada@example.org").status_code == 302  # the page never tells
    assert len(mail.outbox) == 3


def test_signups_from_one_address_are_rate_limited(signup, settings) -> None:
    settings.RATE_SIGNUPS_PER_IP = "3/h"
    codes = [signup(f"person{n}@example.org").status_code for n in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert Subscriber.objects.count() == 3


def test_with_the_cache_unreachable_the_limits_fail_open_and_the_signup_is_kept(
    signup, settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Redis down: nothing listens on port 1. The limits are skipped with a warning, not a 500.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert settings.RATE_LIMITS_ENABLED
    response = signup("ada@example.org")
    assert response.status_code == 302 and response["Location"] == "/subscribe/check-your-inbox/"
    assert Subscriber.objects.filter(email="ada@example.org").exists()
    assert len(mail.outbox) == 1
    assert "rate limit 'signup' not checked: the cache is unreachable" in caplog.text


def test_the_form_needs_a_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/subscribe/", {"email": "ada@example.org", "topics": ["llm"]})
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_pages_carry_a_content_security_policy(client) -> None:
    policy = client.get("/subscribe/")["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy
        and "script-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )


def test_both_parts_of_the_confirmation_carry_the_same_link(signup) -> None:
    signup()
    assert len(set(links_in(mail.outbox[0]))) == 1


def test_a_weekly_reader_chooses_the_day_at_sign_up(signup, post) -> None:
    signup("ada@example.org", cadence="weekly", send_weekday="4")
    post(link("confirm"))
    subscriber = Subscriber.objects.get()
    assert (subscriber.cadence, subscriber.send_weekday) == ("weekly", 4)
