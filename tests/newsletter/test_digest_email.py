"""The digest email: headers, both parts, escaping, size, and the pages its links open."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from html import unescape
from io import StringIO
from xml.etree import ElementTree

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from newsletter import dispatch, sending
from newsletter.mime import digest_mime
from newsletter.models import Delivery
from subscribers.models import Feedback, Subscriber
from tests.factories import PaperFactory, SubscriberFactory
from tests.newsletter.conftest import DAY, PARIS_SEVEN
from tests.smtpsink import SmtpSink, free_port

pytestmark = pytest.mark.django_db
SITE = "https://papers.example.org"


def send(when: dt.datetime = PARIS_SEVEN) -> mail.EmailMessage:
    with time_machine.travel(when, tick=False):
        result = dispatch.digests_dispatch(now=when)
        for chunk in result.chunks:
            sending.chunk_send(delivery_ids=chunk, now=when)
    return mail.outbox[-1]


def html_of(message: mail.EmailMessage) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def path_of(message: mail.EmailMessage, prefix: str) -> str:
    match = re.search(rf"{re.escape(SITE)}(/{prefix}/[^/\s\"<>]+/)", message.body)
    assert match, prefix
    return match.group(1)


@pytest.fixture
def reader(llm, papers) -> Subscriber:
    return SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning"])


def test_the_headers_carry_one_click_unsubscribe_and_list_id(reader) -> None:
    message = send()
    message_bytes = message.message().as_bytes().decode()
    assert (
        message_bytes.count("List-Unsubscribe:") == 1 and message_bytes.count("List-Unsubscribe-Post:") == 1
    )
    assert re.fullmatch(
        r"<https://papers\.example\.org/unsubscribe/[^>\s]+/>", message.extra_headers["List-Unsubscribe"]
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The header and the visible footer link are the same signed URL.
    assert message.extra_headers["List-Unsubscribe"] == f"<{SITE}{path_of(message, 'unsubscribe')}>"
    assert message.extra_headers["List-Id"].startswith("papermail digest <")
    delivery = Delivery.objects.get()
    assert message.metadata == {"delivery_id": str(delivery.pk), "edition": "daily:2026-11-25"}
    assert message.tags == ["digest-daily"]
    assert delivery.message_id == message.extra_headers["Message-ID"]


def test_the_subject_has_the_date_and_the_top_title(reader) -> None:
    assert send().subject == "Wed 25 Nov: Reasoning with verifiers (+2 more)"


def test_both_parts_show_each_paper_with_its_why_line_and_links(reader) -> None:
    message = send()
    html = html_of(message)
    for part in (message.body, unescape(html)):  # the HTML as a reader sees it
        assert "Reasoning with verifiers" in part and "Parsing at scale" in part
        assert 'matches "reasoning"' in part
        assert "trending: 142 upvotes" in part
        assert "https://arxiv.org/abs/2611.00001" in part
        assert f"{SITE}/manage/" in part and f"{SITE}/unsubscribe/" in part and f"{SITE}/digest/" in part
        assert "papermail · 1 Example Street" in part
    assert "José Ramírez, Yann LeCun" in unescape(html)
    # Header, papers and footer, in that order, all inside the one sheet.
    assert (
        html.index('class="sheet"')
        < html.index('class="brand"')
        < html.index('class="item"')
        < html.index('class="foot"')
    )
    assert 'style="' in html  # CSS inlined for Gmail and Outlook
    assert "prefers-color-scheme: dark" in html


def test_both_parts_show_non_ascii_characters_as_themselves(llm, papers) -> None:
    SubscriberFactory(email="ada@example.org", topics=[llm], keywords=["reasoning", "modèle"])
    message = send()
    # From the template (the envelope, the middle dots), from papers (authors) and from the
    # subscriber (a keyword in "why you receive this").
    shown = unescape(html_of(message))
    assert "✉ papermail" in shown and "José Ramírez, Yann LeCun" in shown and '"modèle"' in shown
    # The plain-text part keeps the characters themselves, and the message goes out as UTF-8.
    assert "papermail · 1 Example Street" in message.body and '"modèle"' in message.body
    assert 'charset="utf-8"' in message.message().as_string()


def test_a_long_digest_stays_under_gmails_clipping_size(llm) -> None:
    for n in range(20):
        PaperFactory(
            title=f"Language model study {n} " + "with a long title " * 5,
            abstract="Sentence. " * 200,
            categories=["cs.CL", "cs.LG", "cs.AI"],
            primary_category="cs.CL",
            announced_on=DAY,
            upvotes=n,
            author_names=[f"Author {i}" for i in range(30)],
            ai_summary="",
        )
    SubscriberFactory(email="ada@example.org", topics=[llm], max_papers=20)
    html = html_of(send())
    assert html.count('class="title"') == 20
    assert len(html.encode()) < 102 * 1024
    assert "Author 0, Author 1, Author 2 et al." in html


def test_hostile_paper_text_is_escaped_in_the_html(llm) -> None:
    PaperFactory(
        title='<script>alert("x")</script> Language model',
        abstract="<img src=x onerror=alert(1)>",
        author_names=['<b onmouseover="x">Eve</b>'],
        categories=["cs.CL"],
        announced_on=DAY,
    )
    SubscriberFactory(email="ada@example.org", topics=[llm])
    html = html_of(send())
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in html


def test_the_abstract_is_cut_at_a_sentence_when_there_is_no_ai_summary(llm) -> None:
    abstract = "First sentence is here. " + "Second sentence goes on and on. " * 20
    PaperFactory(
        title="Language models cut", abstract=abstract, categories=["cs.CL"], announced_on=DAY, ai_summary=""
    )
    SubscriberFactory(email="ada@example.org", topics=[llm])
    body = send().body
    assert "First sentence is here. Second sentence goes on and on." in body
    assert "on and on. Second" in body and not re.search(
        r"on and on\.\s+Second sentence goes on and on\.\s*\n\s*Second", body
    )


def test_view_in_browser_shows_the_same_digest(client, reader) -> None:
    message = send()
    response = client.get(path_of(message, "digest"))
    assert response.status_code == 200

    def without_tokens(html: str) -> str:  # signed links carry a timestamp of their own
        return re.sub(r"/(digest|manage|unsubscribe|feed)/[A-Za-z0-9_\-:.]+/", r"/\1/TOKEN/", html)

    assert without_tokens(response.content.decode()) == without_tokens(html_of(message))


def test_a_forged_view_link_shows_nothing(client, reader) -> None:
    send()
    assert client.get("/digest/forged-token-1234567890/").status_code == 404


def test_feedback_asks_first_then_records_and_changes_future_ranking(client, reader) -> None:
    message = send()
    paper_id = Delivery.objects.get().items.get(paper__arxiv_id="2611.00002").paper_id
    url = f"{path_of(message, 'digest')}feedback/{paper_id}/less/"
    page = client.get(url)
    assert page.status_code == 200 and "Fewer papers like this?" in page.content.decode()
    assert not Feedback.objects.exists()
    done = client.post(url)
    assert done.status_code == 200 and "Saved: less like this" in done.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.value, feedback.paper_id) == (-1, paper_id)


def test_feedback_on_a_paper_not_in_that_digest_is_refused(client, reader, papers) -> None:
    message = send()
    response = client.post(f"{path_of(message, 'digest')}feedback/{papers[4].pk}/more/")
    assert response.status_code == 404 and not Feedback.objects.exists()


def test_the_preference_centre_shows_and_resets_feedback(client, reader) -> None:
    message = send()
    paper = Delivery.objects.get().items.first().paper
    Feedback.objects.create(subscriber=reader, paper=paper, value=1)
    manage = path_of(message, "manage")
    page = client.get(manage).content.decode()
    assert "More like this</span>" in page and f'aria-label="Undo rating: {paper.title}"' in page
    client.post(manage + "reset-feedback/")
    assert not Feedback.objects.exists()


def test_the_personal_feed_lists_sent_papers(client, reader) -> None:
    message = send()
    response = client.get(path_of(message, "feed"))
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert titles[0] == "papermail: your papers"
    assert set(titles[1:]) == {"Reasoning with verifiers", "Parsing at scale", "Tokenizers revisited"}
    assert client.get("/feed/not-a-real-token-123/").status_code == 404


def test_preview_digest_prints_what_would_be_sent(reader) -> None:
    out = StringIO()
    with time_machine.travel(PARIS_SEVEN, tick=False):
        call_command("preview_digest", "ADA@example.org", stdout=out)
    text = out.getvalue()
    assert text.startswith("Subject: Wed 25 Nov: Reasoning with verifiers (+2 more)")
    assert 'Why: matches "reasoning" · in Language models · trending: 142 upvotes' in text
    assert not Delivery.objects.exists() and not mail.outbox


def test_preview_digest_html_and_nothing_to_send(reader) -> None:
    out = StringIO()
    with time_machine.travel(PARIS_SEVEN, tick=False):
        call_command("preview_digest", "ada@example.org", "--html", stdout=out)
    assert out.getvalue().lstrip().lower().startswith("<!doctype html>")
    SubscriberFactory(email="nobody@example.org", keywords=["quantum gravity"])
    out = StringIO()
    with time_machine.travel(PARIS_SEVEN, tick=False):
        call_command("preview_digest", "nobody@example.org", stdout=out)
    assert (
        out.getvalue().strip()
        == "No digest for nobody@example.org now: no new papers matched your preferences."
    )


def test_send_digests_now_sync_sends_to_every_active_subscriber(llm, papers) -> None:
    SubscriberFactory(email="a@example.org", topics=[llm], timezone="America/Los_Angeles", send_hour=23)
    SubscriberFactory(email="b@example.org", topics=[llm])
    SubscriberFactory(email="c@example.org", topics=[llm], status="paused")
    out = StringIO()
    with time_machine.travel(PARIS_SEVEN, tick=False):
        call_command("send_digests", "--now", "--sync", stdout=out)
    assert out.getvalue().splitlines() == [
        "2 due, 2 deliveries created, 0 recovered, 2 queued in 1 chunks",
        "2 sent, 0 skipped (nothing new), 0 suppressed, 0 failed",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]


def _parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.SMTP)


def test_a_digest_writes_the_same_mime_as_django_would(reader) -> None:
    message = send()
    ours, theirs = _parsed(digest_mime(message)), _parsed(message.message().as_bytes(linesep="\r\n"))
    for name in (
        "From",
        "To",
        "Subject",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
    ):
        assert str(ours[name]) == str(theirs[name]).strip(), name  # the email package folds a long value
    assert ours.get_content_type() == "multipart/alternative" and ours["Date"]
    [our_text, our_html] = ours.get_payload()
    [their_text, their_html] = theirs.get_payload()
    assert our_text.get_content() == their_text.get_content() == message.body.replace("\n", "\r\n")
    assert our_html.get_content() == their_html.get_content()
    assert our_text.get_content_type() == "text/plain" and our_html.get_content_type() == "text/html"
    assert all(len(line) <= 998 for line in digest_mime(message).split(b"\r\n"))


def test_an_odd_message_is_left_to_djangos_mime(reader) -> None:
    message = send()
    message.cc = ["someone@example.org"]
    assert digest_mime(message) is None
    message.cc = []
    message.alternatives = [("<p>" + "x" * 1200 + "</p>", "text/html")]  # a line too long for 8bit
    assert digest_mime(message) is None


def test_an_accented_subject_is_encoded_for_the_wire(reader, papers) -> None:
    papers[0].title = "Déjà vu: reasoning with verifiers — again"
    papers[0].save()
    message = send()
    data = digest_mime(message)
    assert data.split(b"\r\n\r\n")[0].isascii()  # headers: RFC 2047 words, not raw UTF-8
    subject = str(_parsed(data)["Subject"]).strip()
    assert subject.startswith("Wed 25 Nov: Déjà vu: reasoning with verifiers — again")


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_a_digest_goes_over_smtp_as_its_own_mime(reader, settings, pipelining: bool) -> None:
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    with SmtpSink(pipelining=pipelining) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        with time_machine.travel(PARIS_SEVEN, tick=False):
            result = dispatch.digests_dispatch(now=PARIS_SEVEN)
            assert sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN).sent == 1
    [parsed] = sink.messages
    assert (
        parsed["To"] == "ada@example.org" and parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    text = parsed.get_payload()[0].get_content()
    assert "Reasoning with verifiers" in text and "Why: matches" in text
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SENT and delivery.message_id == parsed["Message-ID"]


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_over_smtp_a_refused_address_fails_alone_and_the_rest_go_out(
    llm, papers, settings, pipelining: bool
) -> None:
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    SubscriberFactory(email="ada@example.org", topics=[llm])
    SubscriberFactory(email="gone@example.org", topics=[llm])
    SubscriberFactory(email="bob@example.org", topics=[llm])
    with SmtpSink(refuse="gone@", pipelining=pipelining) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        with time_machine.travel(PARIS_SEVEN, tick=False):
            result = dispatch.digests_dispatch(now=PARIS_SEVEN)
            outcome = sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    assert (outcome.sent, outcome.failed) == (2, 1)
    assert sorted(m["To"] for m in sink.messages) == ["ada@example.org", "bob@example.org"]
    failed = Delivery.objects.get(state=Delivery.State.FAILED)
    assert failed.subscriber.email == "gone@example.org" and "550" in failed.last_error


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_over_smtp_a_lost_connection_keeps_what_went_out_and_puts_back_the_rest(
    llm, papers, settings, pipelining: bool
) -> None:
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    for name in ("ada", "bob", "cy"):
        SubscriberFactory(email=f"{name}@example.org", topics=[llm])
    with SmtpSink(
        drop_after=1, pipelining=pipelining
    ) as sink:  # the server hangs up after taking one message
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        with time_machine.travel(PARIS_SEVEN, tick=False):
            result = dispatch.digests_dispatch(now=PARIS_SEVEN)
            with pytest.raises(sending.TransientSendError):
                sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    [delivered] = sink.messages
    states = {d.subscriber.email: d.state for d in Delivery.objects.select_related("subscriber")}
    assert states.pop(delivered["To"]) == Delivery.State.SENT  # recorded: never sent again
    assert set(states.values()) == {Delivery.State.PENDING}  # the others wait for the retry


def test_over_smtp_a_refused_connection_puts_the_chunk_back_counted_and_backed_off(
    llm, papers, settings
) -> None:
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    for name in ("ada", "bob"):
        SubscriberFactory(email=f"{name}@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        [chunk] = dispatch.digests_dispatch(now=PARIS_SEVEN).chunks
        with pytest.raises(sending.TransientSendError, match="ConnectionRefusedError"):
            sending.chunk_send(delivery_ids=chunk, now=PARIS_SEVEN)
    rows = list(Delivery.objects.all())
    # Nothing is left "sending" until the lease runs out: each row waits for a retry, its try counted.
    assert {(d.state, d.attempts) for d in rows} == {(Delivery.State.PENDING, 1)}
    assert all(d.retry_after > PARIS_SEVEN for d in rows)
    assert all(d.last_error.startswith("ConnectionRefusedError") for d in rows)

    later = PARIS_SEVEN + dt.timedelta(minutes=1)
    with SmtpSink() as sink, time_machine.travel(later, tick=False):
        settings.EMAIL_PORT = sink.port
        assert sending.chunk_send(delivery_ids=chunk, now=later).sent == 2
    assert sorted(m["To"] for m in sink.messages) == ["ada@example.org", "bob@example.org"]
    assert {(d.state, d.attempts) for d in Delivery.objects.all()} == {(Delivery.State.SENT, 2)}


def test_a_refused_connection_on_the_last_attempt_fails_the_rows(llm, papers, settings) -> None:
    settings.DIGEST_MAX_ATTEMPTS = 1
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    SubscriberFactory(email="ada@example.org", topics=[llm])
    with time_machine.travel(PARIS_SEVEN, tick=False):
        [chunk] = dispatch.digests_dispatch(now=PARIS_SEVEN).chunks
        with pytest.raises(sending.TransientSendError):
            sending.chunk_send(delivery_ids=chunk, now=PARIS_SEVEN)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED
    assert delivery.last_error.startswith("gave up after 1 attempts: ConnectionRefusedError")


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_over_smtp_lines_starting_with_a_dot_arrive_whole(reader, papers, settings, pipelining: bool) -> None:
    papers[0].abstract = "First line.\n.hidden? No: a line that starts with a dot.\n..and two."
    papers[0].ai_summary = ""
    papers[0].save()
    settings.EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"
    with SmtpSink(pipelining=pipelining) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        with time_machine.travel(PARIS_SEVEN, tick=False):
            result = dispatch.digests_dispatch(now=PARIS_SEVEN)
            sending.chunk_send(delivery_ids=result.chunks[0], now=PARIS_SEVEN)
    [parsed] = sink.messages
    text = parsed.get_payload()[0].get_content()
    assert ".hidden? No: a line that starts with a dot." in text and "..and two." in text


def _feedback_page(client, message: mail.EmailMessage, direction: str = "more", **paper_fields) -> str:
    paper = Delivery.objects.get().items.get(paper__arxiv_id="2611.00002").paper
    type(paper).objects.filter(pk=paper.pk).update(**paper_fields)
    page = client.get(f"{path_of(message, 'digest')}feedback/{paper.pk}/{direction}/")
    assert page.status_code == 200
    return " ".join(unescape(page.content.decode()).split())


def test_it_names_the_categories_and_authors_feedback_will_weigh(client, reader) -> None:
    html = _feedback_page(
        client, send(), categories=["cs.CL", "cs.AI"], author_names=["Ada Lovelace", "Alan Turing"]
    )
    assert (
        "Your future digests will favour papers in cs.CL or cs.AI and papers by Ada Lovelace or Alan Turing."
        in html
    )


def test_it_leaves_out_the_authors_when_a_paper_has_none(client, reader) -> None:
    html = _feedback_page(client, send(), "less", categories=["cs.CL"], author_names=[])
    assert "Your future digests will play down papers in cs.CL." in html
    assert "author" not in html


def test_it_says_so_when_feedback_has_nothing_to_weigh(client, reader) -> None:
    html = _feedback_page(client, send(), categories=[], author_names=[])
    assert "lists no categories or authors" in html and "these authors" not in html


def test_it_shortens_a_long_author_list(client, reader) -> None:
    names = [f"Author {n}" for n in range(1, 9)]
    html = _feedback_page(client, send(), categories=["cs.CL"], author_names=names)
    assert "papers by Author 1, Author 2, Author 3 or any of 5 other authors." in html


def test_readers_with_their_own_why_lines_share_one_rendered_block_of_the_paper(reader, papers) -> None:
    from newsletter import candidates, emails, profiles, rendering
    from newsletter.models import Edition
    from papers import cache

    paper, edition = papers[0], Edition.objects.create(cadence="daily", date=DAY)
    whys = ["like “Chain <b>of</b> thought”", "like “Tree search & planning”"]
    sent = [
        rendering.personalise(
            rendering.render_digest(
                edition=edition,
                picks=[candidates.Pick(paper.pk, 1, 1.0, why)],
                papers={paper.pk: paper},
                profile=profiles.profile_of(reader),
            ),
            emails.placeholder_parts(reader),
        )
        for why in whys
    ]
    (_, first_text, first_html), (_, second_text, second_html) = sent
    assert whys[0] in first_text and whys[1] not in first_text
    assert whys[1] in second_text and whys[0] not in second_text
    assert "Chain &lt;b&gt;of&lt;/b&gt; thought" in first_html and "<b>of</b>" not in first_html
    assert "Tree search &amp; planning" in second_html and "Chain" not in second_html
    # One block of the paper is kept, the why-line filled in per digest; no copy per why-line.
    kept = {name: len(region) for name, region in cache._REGIONS.items() if len(region)}
    assert kept == {"paper blocks": 1, "frames": 1}
