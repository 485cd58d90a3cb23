"""The editor console through the admin: every action and custom view, and who may use them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client

from newsletter import dispatch, sending
from newsletter.models import Delivery, Edition, TopicPin
from papers.models import Feed, Paper
from subscribers.models import Feedback, Subscriber, Suppression
from subscribers.services import link_emails_sweep
from tests.factories import FeedFactory, SubscriberFactory
from tests.newsletter.conftest import PARIS_SEVEN

pytestmark = pytest.mark.django_db


def login(client: Client, role: str) -> User:
    user = User.objects.create_user(
        f"{role.lower()}-user", f"{role.lower()}@papers.example.org", "pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def editor(client) -> Client:
    login(client, "Editors")
    return client


@pytest.fixture
def admin_user(client) -> Client:
    login(client, "Admins")
    return client


def sign_up(capture, **extra) -> None:  # type: ignore[no-untyped-def]
    """A visitor signs up new@example.org through the public form (pending until confirmed)."""
    data = {
        "email": "new@example.org",
        "topics": ["llm"],
        "cadence": "daily",
        "timezone": "UTC",
        "send_hour": "7",
    }
    with capture(execute=True):
        Client().post("/subscribe/", data, **extra)
    link_emails_sweep()  # beat's sweep sends the confirmation


def act(client: Client, url: str, action: str, objects, **extra):
    return client.post(
        url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True
    )


# --- papers ---------------------------------------------------------------------------------------------


def test_editors_feature_unfeature_hide_and_unhide_papers(editor, papers) -> None:
    url = "/admin/papers/paper/"
    assert "Featured 2 paper(s)." in act(editor, url, "feature", papers[:2]).content.decode()
    assert Paper.objects.filter(featured=True).count() == 2
    act(editor, url, "unfeature", papers[:1])
    assert list(Paper.objects.filter(featured=True)) == [papers[1]]
    act(editor, url, "hide", papers[2:4])
    assert Paper.objects.filter(hidden=True).count() == 2
    act(editor, url, "unhide", papers[2:3])
    assert list(Paper.objects.filter(hidden=True)) == [papers[3]]


def test_pinning_asks_for_a_topic_then_pins(editor, papers, llm) -> None:
    url = "/admin/papers/paper/"
    page = act(editor, url, "pin_to_topic", papers[:2])
    assert "Pin papers to a topic" in page.content.decode()
    done = act(editor, url, "pin_to_topic", papers[:2], apply="1", topic=llm.pk)
    assert f"Pinned 2 paper(s) in {llm}." in done.content.decode()
    assert set(TopicPin.objects.values_list("paper_id", flat=True)) == {papers[0].pk, papers[1].pk}


def test_the_paper_list_filters_by_category_and_code(editor, papers) -> None:
    Paper.objects.filter(pk=papers[0].pk).update(code_url="https://github.com/x/y")
    html = editor.get("/admin/papers/paper/", {"has_code": "yes"}).content.decode()
    assert papers[0].title in html and papers[1].title not in html
    html = editor.get("/admin/papers/paper/", {"category": "cs.RO"}).content.decode()
    assert "Robot hands" in html and "Parsing at scale" not in html


def test_the_paper_page_shows_its_deliveries_and_feedback(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        result = dispatch.digests_dispatch(now=PARIS_SEVEN)
        sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    Feedback.objects.create(subscriber=reader, paper=papers[0], value=1)
    html = editor.get(f"/admin/papers/paper/{papers[0].pk}/change/").content.decode()
    assert "1 deliveries" in html and "ada@example.org" in html
    assert "1 x more like this, 0 x less like this" in html


# --- topics and feeds ------------------------------------------------------------------------------------


def test_the_topic_page_previews_what_it_matches_now(editor, papers, llm) -> None:
    html = editor.get(f"/admin/subscribers/topic/{llm.pk}/change/").content.decode()
    assert "3 of the papers announced on 2026-11-24" in html
    assert "Reasoning with verifiers" in html and "in Language models · trending: 142 upvotes" in html
    assert "Robot hands" not in html


def test_the_topic_list_counts_subscribers(editor, llm) -> None:
    SubscriberFactory(topics=[llm])
    SubscriberFactory(topics=[llm])
    html = editor.get("/admin/subscribers/topic/").content.decode()
    assert '<td class="field-subscriber_count">2</td>' in html


def test_editors_can_fetch_feeds_now(editor, monkeypatch, django_capture_on_commit_callbacks) -> None:
    from papers import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.fetch_feed, "delay", lambda feed_id: queued.append(feed_id))
    feed = FeedFactory()
    with django_capture_on_commit_callbacks(execute=True):
        act(editor, "/admin/papers/feed/", "fetch_now", [feed])
    assert queued == [feed.pk]


def test_beat_schedules_are_in_the_admin(editor) -> None:
    html = editor.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "Fetch arXiv listings" in html and "Dispatch digests" in html


# --- subscribers -----------------------------------------------------------------------------------------


def test_admins_suppress_a_subscriber(admin_user) -> None:
    reader = SubscriberFactory(email="ada@example.org")
    act(admin_user, "/admin/subscribers/subscriber/", "suppress", [reader])
    reader.refresh_from_db()
    assert reader.status == "suppressed" and Suppression.objects.get().reason == "manual"


def test_reactivating_asks_the_subscriber_to_confirm_again(
    admin_user, django_capture_on_commit_callbacks
) -> None:
    reader = SubscriberFactory(email="ada@example.org", status="unsubscribed")
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_user, "/admin/subscribers/subscriber/", "reactivate", [reader])
    assert link_emails_sweep() == 1
    reader.refresh_from_db()
    assert reader.status == "unsubscribed"  # unchanged until they confirm
    assert mail.outbox[-1].subject == "Confirm your papermail subscription"
    assert reader.events.filter(kind="reactivation_requested").exists()


def test_resend_confirmation_to_pending_subscribers(
    admin_user, client, django_capture_on_commit_callbacks
) -> None:
    sign_up(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    pending = Subscriber.objects.get(email="new@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        page = act(admin_user, "/admin/subscribers/subscriber/", "resend_confirmation", [pending])
    assert "Resent 1 confirmation email(s)" in page.content.decode()
    assert link_emails_sweep() == 1
    assert [m.to for m in mail.outbox] == [["new@example.org"]]


def test_admins_export_csv_with_formulas_neutralised(admin_user) -> None:
    SubscriberFactory(email="ada@example.org", keywords=["=HYPERLINK(1)"])
    response = act(admin_user, "/admin/subscribers/subscriber/", "export_csv", Subscriber.objects.all())
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["email", "status"]
    assert rows[1][0] == "ada@example.org" and rows[1][6] == "'=HYPERLINK(1)"


def test_the_subscriber_page_shows_consent_and_history_read_only(
    admin_user, client, django_capture_on_commit_callbacks
) -> None:
    sign_up(django_capture_on_commit_callbacks, REMOTE_ADDR="203.0.113.9")
    pending = Subscriber.objects.get()
    html = admin_user.get(f"/admin/subscribers/subscriber/{pending.pk}/change/").content.decode()
    assert "203.0.113.9" in html and "signup-web" in html and "confirmation_sent" in html
    assert 'name="consents-0-submitted_ip"' not in html  # not editable


# --- preview and test send --------------------------------------------------------------------------------


def test_preview_shows_html_text_and_why_lines(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning"])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        html = editor.get(f"/admin/subscribers/subscriber/{reader.pk}/preview/").content.decode()
    assert "Subject:</strong> Wed 25 Nov: Reasoning with verifiers (+2 more)" in html
    assert "matches &quot;reasoning&quot; · in Language models · trending: 142 upvotes" in html
    assert "<iframe" in html and "srcdoc=" in html and "<pre" in html
    assert not Delivery.objects.exists()


def test_send_a_test_digest_to_me(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        page = editor.post(f"/admin/subscribers/subscriber/{reader.pk}/preview/send-test/", follow=True)
    assert "Sent a test of ada@example.org" in page.content.decode()
    [message] = mail.outbox
    assert message.to == ["editors@papers.example.org"] and message.subject.startswith("[TEST] Wed 25 Nov:")
    assert message.tags == ["digest-test"]
    assert not Delivery.objects.exists()


# --- editions and deliveries -------------------------------------------------------------------------------


def _deliveries(llm) -> list[Delivery]:
    edition = Edition.objects.create(cadence="daily", date=dt.date(2026, 11, 25))
    states = ["sent", "sent", "failed", "skipped", "suppressed"]
    return [
        Delivery.objects.create(
            subscriber=SubscriberFactory(topics=[llm]),
            edition=edition,
            state=s,
            last_error="boom" if s == "failed" else "",
        )
        for s in states
    ]


def test_editions_show_counts_by_outcome(editor, llm) -> None:
    _deliveries(llm)
    html = editor.get("/admin/newsletter/edition/").content.decode()
    for field, count in (("due", 5), ("sent", 2), ("failed", 1), ("skipped", 1), ("suppressed", 1)):
        assert f'<td class="field-{field}"><a href=' in html and f">{count}</a></td>" in html


def test_deliveries_filter_by_state_and_error(editor, llm) -> None:
    _deliveries(llm)
    html = editor.get("/admin/newsletter/delivery/", {"has_error": "yes"}).content.decode()
    assert html.count('class="field-state"') == 1 and "boom" in html


def test_retry_failed_requeues_only_failed_rows(
    admin_user, llm, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from newsletter import tasks

    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.send_chunk, "delay", lambda ids: queued.append(ids))
    rows = _deliveries(llm)
    with django_capture_on_commit_callbacks(execute=True):
        page = act(admin_user, "/admin/newsletter/delivery/", "retry_failed", rows)
    assert "Queued 1 failed deliveries again" in page.content.decode()
    assert queued == [[rows[2].pk]]
    assert sorted(Delivery.objects.values_list("state", flat=True)) == [
        "pending",
        "sent",
        "sent",
        "skipped",
        "suppressed",
    ]


# --- dashboard ---------------------------------------------------------------------------------------------


def test_the_dashboard_shows_todays_figures_with_links(editor, llm, papers) -> None:
    SubscriberFactory(topics=[llm])
    SubscriberFactory(status="pending")
    FeedFactory(name="Broken arXiv feed", last_status=Feed.Status.ERROR)
    with time_machine.travel(PARIS_SEVEN, tick=False):
        dispatch.digests_dispatch(now=PARIS_SEVEN)
        html = editor.get("/admin/").content.decode()
    assert "Needs attention" in html
    assert "1 feeds in error" in html and "?last_status__exact=error" in html
    assert "Last dispatch" in html and "1 due, 1 created" in html
    assert "?status__exact=pending" in html


# --- permissions --------------------------------------------------------------------------------------------


def test_editors_cannot_change_or_export_subscribers(editor) -> None:
    reader = SubscriberFactory(email="ada@example.org")
    page = editor.get("/admin/subscribers/subscriber/").content.decode()
    assert "ada@example.org" in page
    assert 'value="export_csv"' not in page and 'value="suppress"' not in page
    response = act(editor, "/admin/subscribers/subscriber/", "suppress", [reader])
    reader.refresh_from_db()
    assert reader.status == "active"
    response = editor.post(
        "/admin/subscribers/subscriber/", {"action": "export_csv", "_selected_action": [reader.pk]}
    )
    assert response.get("Content-Type", "").startswith("text/html")  # no CSV for editors


def test_editors_cannot_retry_deliveries(editor, llm) -> None:
    rows = _deliveries(llm)
    act(editor, "/admin/newsletter/delivery/", "retry_failed", rows)
    assert Delivery.objects.get(pk=rows[2].pk).state == "failed"


def test_staff_without_preview_permission_cannot_preview(client) -> None:
    user = User.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
    user.user_permissions.add(
        *Group.objects.get(name="Editors").permissions.exclude(codename="preview_digest")
    )
    client.force_login(user)
    reader = SubscriberFactory()
    assert client.get(f"/admin/subscribers/subscriber/{reader.pk}/preview/").status_code == 403
    assert client.post(f"/admin/subscribers/subscriber/{reader.pk}/preview/send-test/").status_code == 403
    assert not mail.outbox


def test_a_logged_out_visitor_is_sent_to_the_login_page(client) -> None:
    reader = SubscriberFactory()
    response = client.get(f"/admin/subscribers/subscriber/{reader.pk}/preview/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_hostile_titles_are_escaped_in_the_admin(editor) -> None:
    from tests.factories import PaperFactory

    PaperFactory(title="<script>alert('admin')</script>")
    html = editor.get("/admin/papers/paper/").content.decode()
    assert "<script>alert('admin')" not in html and "&lt;script&gt;" in html
