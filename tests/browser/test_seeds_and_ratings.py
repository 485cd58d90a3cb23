"""A reader gives papers they like at sign-up (a typed id and a BibTeX file), confirms, seeds more from
their own name, taps "more like this" in a digest (and undoes it), and rates papers in the preference
centre: all in a real browser."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from newsletter.link_emails import link_emails_sweep
from subscribers import links
from subscribers.models import Feedback, Subscriber
from tests.browser.conftest import shot
from tests.browser.test_subscribe_journey import site_link
from tests.factories import PaperFactory
from tests.httpserver import Reply
from tests.newsletter.test_one_tap_feedback import sent_digest
from tests.subscribers.test_seeds import API, atom

pytestmark = pytest.mark.django_db(transaction=True)

BIBTEX = rb"""@misc{vaswani2017, title = {Attention Is All You Need}, eprint = {1706.03762}, eprinttype=arXiv}
@book{knuth, title = {The Art of Computer Programming <script>alert(1)</script>}}
"""


def seeds_of(email: str) -> list[tuple[str, str]]:
    return sorted(Feedback.objects.filter(subscriber__email=email).values_list("paper__arxiv_id", "source"))


def test_seed_papers_one_tap_feedback_and_ratings_in_a_real_browser(
    default_topics, browser_page, live_server, feed_server, local_feeds, settings, tmp_path
) -> None:
    page, console_errors = browser_page
    settings.ARXIV_API_URL = feed_server.url(API)
    feed_server.script(API, Reply(body=atom(("1706.03762", "Attention Is All You Need", ["Ashish Vaswani"]))))
    known = PaperFactory(arxiv_id="2611.18230", title="Self-Correcting Chain-of-Thought")

    # 1. Sign-up with a typed id and a BibTeX file: found and not found are said on "check your inbox".
    page.goto(live_server.url + "/subscribe/")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_label("Large language models").check()
    page.get_by_text("Papers you like").first.click()  # opens the <details>
    page.get_by_label("arXiv ids or links").fill("https://arxiv.org/abs/2611.18230v2")
    bib = tmp_path / "My Library.bib"
    bib.write_bytes(BIBTEX)
    page.get_by_label("Or a file from your reference manager").set_input_files(str(bib))
    shot(page, "seeds-01-signup-with-papers")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("2 papers found")).to_be_visible()
    page.get_by_text("1 not found").click()
    expect(page.get_by_text("The Art of Computer Programming <script>alert(1)</script>")).to_be_visible()
    shot(page, "seeds-02-check-inbox-with-papers")
    assert seeds_of("grace@example.org") == []

    # 2. Confirming stores them as seed likes.
    assert link_emails_sweep() == 1
    page.goto(site_link(mail.outbox[-1], "confirm", live_server.url))
    expect(page.get_by_text("Attention Is All You Need")).to_be_visible()
    shot(page, "seeds-03-confirm-with-papers")
    page.get_by_role("button", name="Yes, subscribe me").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    assert seeds_of("grace@example.org") == [("1706.03762", "seed"), ("2611.18230", "seed")]

    # 3. The preference centre: seed from one's own name, choosing among the papers found.
    reader = Subscriber.objects.get(email="grace@example.org")
    mine = PaperFactory(
        arxiv_id="2611.00007", title="My Own Paper on Reasoning", author_names=["Grace Hopper"]
    )
    page.goto(live_server.url + links.manage_path(reader))
    expect(page.get_by_role("button", name="Remove: Attention Is All You Need")).to_be_visible()
    page.get_by_label("Your name as on arXiv").fill("Grace Hopper")
    page.get_by_role("button", name="Find my papers").click()
    expect(page.get_by_role("heading", name="Papers by Grace Hopper")).to_be_visible()
    shot(page, "seeds-04-author-papers-to-confirm")
    page.get_by_role("button", name="Add the ticked papers").click()
    expect(page.get_by_text("1 paper found")).to_be_visible()
    assert ("2611.00007", "seed") in seeds_of("grace@example.org")
    shot(page, "seeds-05-manage-papers-you-like")

    # 4. A digest's "more like this" link: the page changes nothing until its one button is pressed.
    other = PaperFactory(title="Verifier-Guided Decoding for Math", author_names=["Lin Qiu"])
    delivery = sent_digest(reader, [other, known, mine])
    token = links.mail_links(reader, delivery_id=delivery.pk).delivery_token
    page.goto(f"{live_server.url}/digest/{token}/feedback/{other.pk}/more/")
    expect(page.get_by_role("heading", name="More papers like this?")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, more like this")).to_be_focused()
    shot(page, "seeds-06-one-tap-page")
    assert not Feedback.objects.filter(paper=other).exists()
    page.keyboard.press("Enter")  # the focused button: one tap
    expect(page.get_by_role("heading", name="Saved: more like this")).to_be_visible()
    shot(page, "seeds-07-one-tap-saved")
    assert Feedback.objects.get(paper=other).source == "digest"
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("heading", name="Undone")).to_be_visible()
    assert not Feedback.objects.filter(paper=other).exists()
    page.goto(f"{live_server.url}/digest/{token}/feedback/{known.pk}/more/")
    expect(page.get_by_role("heading", name="You asked for more papers like this")).to_be_visible()
    shot(page, "seeds-08-one-tap-already-rated")

    # 5. The preference centre's recent papers: rate one, then undo it.
    page.goto(live_server.url + links.manage_path(reader) + "#papers")
    page.get_by_role("button", name="Less like this: Verifier-Guided Decoding for Math").click()
    expect(page.get_by_text("Rating saved.")).to_be_visible()
    expect(page.locator(".alert:empty")).to_have_count(0)
    assert Feedback.objects.get(paper=other).value == -1
    shot(page, "seeds-09-manage-rated")
    page.get_by_role("button", name="Undo rating: Verifier-Guided Decoding for Math").click()
    expect(page.get_by_text("Rating saved.")).to_be_visible()
    assert not Feedback.objects.filter(paper=other).exists()

    assert console_errors == []
