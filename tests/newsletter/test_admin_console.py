"""The editor console through the admin: every action and custom view, and who may use them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django_celery_beat.models import PeriodicTask

from newsletter import dispatch, sending
from newsletter.link_emails import link_emails_sweep
from newsletter.models import Delivery, DeliveryItem, Edition
from papers.models import Feed, Paper, TopicPin
from subscribers.models import Feedback, Subscriber, Suppression
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, email_hash, read_token
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
    html = editor.get(f"/admin/papers/topic/{llm.pk}/change/").content.decode()
    assert "3 of the papers announced on 2026-11-24" in html
    assert "Reasoning with verifiers" in html and "in Language models · trending: 142 upvotes" in html
    assert "Robot hands" not in html


def test_it_previews_a_topic_as_typed_without_saving(editor, papers, llm) -> None:
    response = editor.get(
        "/admin/papers/topic/preview/",
        {"topic": llm.pk, "categories": "cs.ro, cs.CV", "include_keywords": "", "exclude_keywords": "vision"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 of the papers announced on 2026-11-24" in html and "Robot hands" in html
    assert "Vision transformers" not in html and "Reasoning with verifiers" not in html
    assert "not saved" in html
    llm.refresh_from_db()
    assert llm.categories == ["cs.CL"]


def test_it_previews_a_new_topic_before_it_is_saved(editor, papers) -> None:
    response = editor.get("/admin/papers/topic/preview/", {"include_keywords": "tokenizers"})
    html = response.content.decode()
    assert "Tokenizers revisited" in html and "Parsing at scale" not in html


def test_it_says_what_is_wrong_with_a_typed_category_in_the_preview(editor, papers, llm) -> None:
    response = editor.get("/admin/papers/topic/preview/", {"topic": llm.pk, "categories": "cs CV"})
    assert response.status_code == 400
    assert "is not an arXiv category" in response.content.decode()


def test_the_topic_page_carries_the_preview_script_and_address(editor, llm) -> None:
    html = editor.get(f"/admin/papers/topic/{llm.pk}/change/").content.decode()
    assert "/static/js/topic_preview.js" in html
    assert f'data-preview-url="/admin/papers/topic/preview/?topic={llm.pk}"' in html


def test_staff_without_topic_access_cannot_preview_topics(client, papers) -> None:
    user = User.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/papers/topic/preview/", {"categories": "cs.CL"}).status_code == 403


def topic_form(topic, **changes) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The topic's change form as the browser would post it, with ``changes``."""
    return {
        "name": topic.name,
        "slug": topic.slug,
        "description": topic.description,
        "categories": ", ".join(topic.categories),
        "include_keywords": ", ".join(topic.include_keywords),
        "exclude_keywords": ", ".join(topic.exclude_keywords),
        "position": str(topic.position),
        "active": "on",
        **changes,
    }


def test_it_edits_topic_lists_as_text(editor, llm) -> None:
    page = editor.get(f"/admin/papers/topic/{llm.pk}/change/").content.decode()
    assert re.search(r'<textarea name="categories"[^>]*>\s*cs.CL</textarea>', page)
    assert "&quot;cs.CL&quot;" not in page  # not JSON
    response = editor.post(
        f"/admin/papers/topic/{llm.pk}/change/",
        topic_form(
            llm,
            categories="cs.CV, cs.CL\ncs.cl",
            include_keywords="language model\r\n  large   language model, LLM",
            exclude_keywords="",
        ),
    )
    assert response.status_code == 302
    llm.refresh_from_db()
    assert llm.categories == ["cs.CV", "cs.CL"]
    assert llm.include_keywords == ["language model", "large language model", "LLM"]
    assert llm.exclude_keywords == []


@pytest.mark.parametrize("typed", ["cs CV", "computer vision", "cs", "cs.CL; cs.CV", '["cs.CL"]'])
def test_it_refuses_topic_categories_that_are_not_arxiv_categories(editor, llm, typed) -> None:
    response = editor.post(f"/admin/papers/topic/{llm.pk}/change/", topic_form(llm, categories=typed))
    assert response.status_code == 200
    assert "is not an arXiv category" in response.content.decode()
    llm.refresh_from_db()
    assert llm.categories == ["cs.CL"]


def test_it_keeps_arxiv_categories_of_every_shape(editor, llm) -> None:
    typed = "astro-ph.GA, cond-mat.mes-hall, hep-th, physics.comp-ph, q-bio.NC, math.ap"
    editor.post(f"/admin/papers/topic/{llm.pk}/change/", topic_form(llm, categories=typed))
    llm.refresh_from_db()
    assert llm.categories == [
        "astro-ph.GA",
        "cond-mat.mes-hall",
        "hep-th",
        "physics.comp-ph",
        "q-bio.NC",
        "math.AP",
    ]


def test_admins_edit_a_subscribers_keywords_and_authors_as_text(admin_user, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm], authors=["Yann LeCun"])
    page = admin_user.get(f"/admin/subscribers/subscriber/{reader.pk}/change/").content.decode()
    assert re.search(r'<textarea name="authors"[^>]*>\s*Yann LeCun</textarea>', page)
    form = {
        "topics": [llm.pk],
        "keywords": "reasoning, state space model",
        "excluded_keywords": "robotics",
        "authors": "Yann LeCun, José Ramírez",
        "cadence": "daily",
        "timezone": "Europe/Paris",
        "send_hour": "7",
        "max_papers": "10",
        "send_weekday": "0",
        **{
            f"{prefix}-{key}": value
            for prefix in ("saved_searches", "consents", "link_emails", "events")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }
    response = admin_user.post(f"/admin/subscribers/subscriber/{reader.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    reader.refresh_from_db()
    assert reader.keywords == ["reasoning", "state space model"] and reader.excluded_keywords == ["robotics"]
    assert reader.authors == ["Yann LeCun", "José Ramírez"]


def test_the_topic_list_counts_subscribers(editor, llm) -> None:
    SubscriberFactory(topics=[llm])
    SubscriberFactory(topics=[llm])
    html = editor.get("/admin/papers/topic/").content.decode()
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


def test_it_shows_editors_schedules_read_only(editor) -> None:
    task = PeriodicTask.objects.get(name="Send owed link emails")
    page = editor.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = editor.post(
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/",
        {
            "name": task.name,
            "regtask": "newsletter.tasks.send_chunk",
            "task": "newsletter.tasks.send_chunk",
            "interval": task.interval_id,
            "args": "[1, 1]",
            "kwargs": "{}",
            "enabled": "",
        },
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.enabled and task.task == "newsletter.tasks.send_owed_link_emails" and task.args == "[]"


@pytest.mark.parametrize("action", ["disable_tasks", "toggle_tasks", "enable_tasks", "run_tasks"])
def test_it_refuses_editors_the_schedule_actions(editor, monkeypatch, action) -> None:
    from celery.app.task import Task

    ran: list[object] = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *args, **kwargs: ran.append(self.name))
    PeriodicTask.objects.filter(name="Fetch arXiv listings").update(enabled=False)
    before = dict(PeriodicTask.objects.values_list("name", "enabled"))
    page = editor.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert f'value="{action}"' not in page
    act(editor, "/admin/django_celery_beat/periodictask/", action, PeriodicTask.objects.all())
    assert dict(PeriodicTask.objects.values_list("name", "enabled")) == before
    assert ran == []


def test_admins_change_schedules(admin_user) -> None:
    task = PeriodicTask.objects.get(name="Send owed link emails")
    page = act(admin_user, "/admin/django_celery_beat/periodictask/", "disable_tasks", [task])
    assert "1 task was successfully disabled" in page.content.decode()
    task.refresh_from_db()
    assert not task.enabled


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


def test_reactivating_a_bounced_address_mails_nothing_and_says_so(
    admin_user, django_capture_on_commit_callbacks
) -> None:
    reader = SubscriberFactory(email="ada@example.org", status="unsubscribed")
    Suppression.objects.create(email_hash=email_hash("ada@example.org"), reason="hard_bounce")
    with django_capture_on_commit_callbacks(execute=True):
        page = act(admin_user, "/admin/subscribers/subscriber/", "reactivate", [reader])
    text = unescape(page.content.decode())
    assert "Sent 0 confirmation link(s)" in text
    assert "1 not asked: already active or paused, or their address is suppressed" in text
    assert link_emails_sweep() == 0 and mail.outbox == []


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


def signed_tokens_in(text: str) -> list[tuple[str, str]]:
    """Return (purpose, token) for every string in ``text`` that is a valid token of any purpose."""
    found = []
    for candidate in set(re.findall(r"[A-Za-z0-9_\-:.]{10,400}", text)):
        for purpose in Purpose:
            try:
                read_token(purpose, candidate)
            except TokenInvalid:
                continue
            except TokenExpired:
                pass
            found.append((purpose.value, candidate))
    return found


def test_it_previews_a_digest_with_placeholder_links_only(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        html = editor.get(f"/admin/subscribers/subscriber/{reader.pk}/preview/").content.decode()
    assert "Reasoning with verifiers" in html
    assert signed_tokens_in(html) == []
    assert signed_tokens_in(unescape(unescape(html))) == []  # the iframe's srcdoc is escaped twice
    assert "/preview-link/manage/" in html and "/preview-link/unsubscribe/" in html


def test_it_sandboxes_the_preview_iframe(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        html = editor.get(f"/admin/subscribers/subscriber/{reader.pk}/preview/").content.decode()
    [iframe] = re.findall(r"<iframe[^>]*>", html)
    assert re.search(r'\ssandbox(="")?[\s>]', iframe)
    assert "allow-scripts" not in iframe and "allow-same-origin" not in iframe


def test_it_sends_a_test_digest_with_placeholder_links_only(editor, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        editor.post(f"/admin/subscribers/subscriber/{reader.pk}/preview/send-test/")
    [message] = mail.outbox
    raw = message.message().as_string()
    [(html, _mime)] = message.alternatives
    for text in (raw, message.body, html, *map(str, message.extra_headers.values())):
        assert signed_tokens_in(text) == []
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://papers.example.org/preview-link/")
    assert "/preview-link/manage/" in message.body


def test_a_placeholder_link_says_what_it_stands_for_and_changes_nothing(client, papers, llm) -> None:
    reader = SubscriberFactory(email="ada@example.org", topics=[llm])
    page = client.get("/preview-link/unsubscribe/")
    assert page.status_code == 200 and "placeholder" in page.content.decode()
    one_click = client.post("/preview-link/unsubscribe/", {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert client.get("/preview-link/feedback/12/more/").status_code == 200
    reader.refresh_from_db()
    assert reader.status == "active"


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


def test_the_edition_page_shows_what_it_holds(editor, papers, llm) -> None:
    rows = _deliveries(llm)
    Delivery.objects.filter(pk=rows[3].pk).update(skip_reason="no new papers matched your preferences")
    Delivery.objects.filter(pk=rows[0].pk).update(bounced_at=PARIS_SEVEN)
    for row in rows[:2]:
        DeliveryItem.objects.create(delivery=row, paper=papers[0], position=1, score=2.0, why="cs.CL")
    DeliveryItem.objects.create(delivery=rows[1], paper=papers[1], position=2, score=1.0, why="cs.CL")
    edition = rows[0].edition
    html = editor.get(f"/admin/newsletter/edition/{edition.pk}/change/").content.decode()
    assert "5 deliveries" in html and "1 bounced" in html
    assert re.search(
        rf'edition__id__exact={edition.pk}&amp;state__exact=sent">sent</a></td><td class="pm-num">2<', html
    )
    assert re.search(r'state__exact=failed">failed</a></td><td class="pm-num">1<', html)
    assert "no new papers matched your preferences" in html
    assert "boom" in html
    assert re.search(r'Reasoning with verifiers</a></td><td class="pm-num">2<', html)
    assert re.search(r'Parsing at scale</a></td><td class="pm-num">1<', html)


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


def test_the_dashboard_counts_papers_announced_today_not_loaded_today(editor) -> None:
    from tests.factories import PaperFactory

    today, yesterday_evening = dt.date(2026, 11, 25), dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)
    PaperFactory.create_batch(2, announced_on=today, first_seen_at=yesterday_evening)
    PaperFactory(announced_on=dt.date(2026, 11, 20), first_seen_at=PARIS_SEVEN - dt.timedelta(hours=1))
    with time_machine.travel(PARIS_SEVEN, tick=False):
        html = editor.get("/admin/").content.decode()
    assert re.search(r'<p class="pm-big">\s*2\s*</p>', html)
    assert "announced today" in html


def test_the_dashboard_names_the_latest_announcement_when_none_was_today(editor, papers) -> None:
    with time_machine.travel(PARIS_SEVEN, tick=False):
        html = editor.get("/admin/").content.decode()
    assert re.search(r'<p class="pm-big">\s*0\s*</p>', html)
    assert "5 announced on Tue 24 Nov" in html


# --- signing in ------------------------------------------------------------------------------------------


@pytest.fixture
def edith() -> User:
    user = User.objects.create_user("edith", "edith@papers.example.org", "correct horse", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def sign_in(password: str, *, ip: str = "203.0.113.5", **extra):  # type: ignore[no-untyped-def]
    """Post the admin login form as a fresh browser from ``ip``; return the response."""
    client = Client(REMOTE_ADDR=ip, **extra)
    response = client.post("/admin/login/", {"username": "edith", "password": password, "next": "/admin/"})
    response.signed_in = "_auth_user_id" in client.session
    return response


def test_it_signs_editors_in_with_the_right_password(edith) -> None:
    response = sign_in("correct horse")
    assert response.status_code == 302 and response.signed_in


def test_it_locks_out_a_username_from_an_address_after_five_failures(edith) -> None:
    for _ in range(4):
        assert sign_in("wrong").status_code == 200
    assert sign_in("wrong").status_code == 429
    response = sign_in("correct horse")
    assert response.status_code == 429 and not response.signed_in
    html = response.content.decode()
    assert "Too many failed sign-ins" in html and "15 minutes" in html
    assert response["Retry-After"] == "900"


def test_it_still_signs_the_same_username_in_from_another_address(edith) -> None:
    for _ in range(5):
        sign_in("wrong", ip="203.0.113.5")
    assert sign_in("correct horse", ip="198.51.100.20").signed_in


def test_it_locks_out_a_username_after_twenty_failures_from_any_addresses(edith) -> None:
    for n in range(20):
        sign_in("wrong", ip=f"198.51.100.{n + 1}")
    response = sign_in("correct horse", ip="192.0.2.77")
    assert response.status_code == 429 and not response.signed_in


def test_it_lets_a_locked_out_username_in_after_the_cool_off(edith) -> None:
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            sign_in("wrong")
        assert not sign_in("correct horse").signed_in
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert sign_in("correct horse").signed_in


def test_it_counts_failures_by_the_client_address_the_site_is_set_to_trust(edith, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1  # one proxy (10.0.0.1) appends the client to X-Forwarded-For
    for _ in range(5):
        sign_in("wrong", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert not sign_in("correct horse", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").signed_in
    assert sign_in("correct horse", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20").signed_in


def test_admins_lift_a_lockout(admin_user, edith) -> None:
    for _ in range(5):
        sign_in("wrong")
    page = admin_user.get("/admin/axes/accessattempt/").content.decode()
    assert "edith" in page and "Locked Out" in page
    act(admin_user, "/admin/axes/accessattempt/", "delete_selected", AccessAttempt.objects.all(), post="yes")
    assert sign_in("correct horse").signed_in


def test_editors_cannot_lift_a_lockout(editor, edith) -> None:
    for _ in range(5):
        sign_in("wrong")
    assert editor.get("/admin/axes/accessattempt/").status_code == 403


def test_the_test_client_can_still_log_in(client, edith) -> None:
    assert client.login(username="edith", password="correct horse")
    assert client.get("/admin/").status_code == 200
    assert not Client().login(username="edith", password="wrong")


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
