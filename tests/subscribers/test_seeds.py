"""Seed papers: a reader names papers they like (ids, links, a reference file, their own name), at sign-up
(stored on confirmation) or in the preference centre (stored at once), as "seed" likes."""

from __future__ import annotations

from html import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from papers.models import Paper
from subscribers.models import ConsentRecord, Feedback, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.factories import PaperFactory
from tests.httpserver import FeedServer, Reply
from tests.subscribers.conftest import link

pytestmark = pytest.mark.django_db

API = "/api/query"


def atom(*entries: tuple[str, str, list[str]]) -> bytes:
    """Return an arXiv API answer holding these (id, title, authors)."""

    def names(authors: list[str]) -> str:
        return "".join(f"<author><name>{name}</name></author>" for name in authors)

    body = "".join(
        f"""<entry><id>http://arxiv.org/abs/{arxiv_id}v1</id><title>{escape(title)}</title>
        <summary>About {escape(title)}.</summary><published>2017-06-12T17:57:34Z</published>
        <updated>2017-06-12T17:57:34Z</updated>{names(authors)}
        <arxiv:primary_category term="cs.CL"/><category term="cs.CL"/></entry>"""
        for arxiv_id, title, authors in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"<id>https://arxiv.org/api/x</id><title>arXiv Query</title><updated>2026-11-24T00:00:00Z</updated>"
        f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>{body}</feed>"
    ).encode()


@pytest.fixture
def arxiv(feed_server: FeedServer, local_feeds, settings) -> FeedServer:
    """The arXiv API, served locally: it knows "Attention Is All You Need" unless told otherwise."""
    settings.ARXIV_API_URL = feed_server.url(API)
    feed_server.script(API, Reply(body=atom(("1706.03762", "Attention Is All You Need", ["Ashish Vaswani"]))))
    return feed_server


def manage_path(subscriber: Subscriber) -> str:
    return f"/manage/{make_token(Purpose.MANAGE, subscriber_id=subscriber.pk, email=subscriber.email)}/"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def seeds_of(subscriber: Subscriber) -> list[tuple[str, int, str]]:
    return sorted(
        subscriber.feedback.values_list("paper__arxiv_id", "value", "source"), key=lambda row: row[0]
    )


# --- At sign-up: part of the proposed choices, stored on confirmation -----------------------------


def test_it_keeps_signup_seeds_with_the_consent_and_stores_them_on_confirmation(signup, post, arxiv) -> None:
    PaperFactory(arxiv_id="2611.00001", title="Known Paper")
    page = signup(seed_papers="https://arxiv.org/abs/2611.00001v2\n1706.03762")
    html = page.content.decode()
    assert page.status_code == 200 and "Check your inbox" in html and "2 papers found" in html
    assert arxiv.hits(API) == 1  # only the paper the catalogue lacked was fetched
    consent = ConsentRecord.objects.get()
    assert consent.requested_preferences["seed_papers"] == ["2611.00001", "1706.03762"]
    assert not Feedback.objects.exists()  # nothing is stored before the owner confirms

    confirm_page = Client().get(link("confirm")).content.decode()
    assert "Papers you like" in confirm_page and "Attention Is All You Need" in confirm_page
    post(link("confirm"))
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "active"
    assert seeds_of(subscriber) == [("1706.03762", 1, "seed"), ("2611.00001", 1, "seed")]


def test_it_counts_signup_seeds_in_the_confirmation_email_rather_than_quoting_them(signup, arxiv) -> None:
    PaperFactory(arxiv_id="2611.00001", title="Buy cheap pills now")
    signup(seed_papers="2611.00001")
    from django.core import mail

    assert "1 paper" in mail.outbox[-1].body and "Buy cheap pills" not in mail.outbox[-1].body


def test_a_signup_with_a_hostile_file_is_refused_and_stores_nothing(signup, arxiv) -> None:
    page = signup(seed_file=upload("library.bib", b"\x00\x01\x02binary"))
    assert page.status_code == 400 and "looks like a binary file" in page.content.decode()
    assert not Subscriber.objects.exists() and arxiv.hits(API) == 0


def test_a_signup_without_seeds_goes_to_check_your_inbox_as_before(signup) -> None:
    page = signup()
    assert page.status_code == 302 and page["Location"] == "/subscribe/check-your-inbox/"
    assert "seed_papers" not in ConsentRecord.objects.get().requested_preferences


# --- In the preference centre: stored at once ---------------------------------------------------------


@pytest.fixture
def reader() -> Subscriber:
    return Subscriber.objects.create(email="ada@example.org", status="active")


def test_it_stores_papers_given_by_id_or_link_at_once(client, reader, arxiv) -> None:
    PaperFactory(arxiv_id="2611.00001")
    page = client.post(
        manage_path(reader) + "papers/", {"seed_papers": "2611.00001 http://arxiv.org/pdf/1706.03762v5"}
    )
    assert page.status_code == 200 and "2 papers found" in page.content.decode()
    assert seeds_of(reader) == [("1706.03762", 1, "seed"), ("2611.00001", 1, "seed")]
    fetched = Paper.objects.get(arxiv_id="1706.03762")  # stored through the normal ingest
    assert fetched.title == "Attention Is All You Need" and fetched.author_names == ["Ashish Vaswani"]
    assert arxiv.hits(API) == 1


def test_it_asks_arxiv_for_missing_ids_in_one_id_list_query(client, reader, arxiv) -> None:
    client.post(manage_path(reader) + "papers/", {"seed_papers": "1706.03762 2401.00001"})
    assert arxiv.hits(API) == 1
    page = client.post(manage_path(reader) + "papers/", {"seed_papers": "2401.00001"})
    assert "None of these papers could be found" in page.content.decode()
    assert "2401.00001" in page.content.decode()


def test_it_reads_a_bibtex_file_and_says_what_it_found_and_what_not(client, reader, arxiv) -> None:
    PaperFactory(arxiv_id="2611.00002", title="BERT: Pre-training of Deep Bidirectional Transformers")
    bib = rb"""@misc{v, title={Attention Is All You Need}, eprint={1706.03762}, archivePrefix={arXiv}}
@article{d, title={{BERT}: Pre-training of Deep {Bidirectional} Transformers}, booktitle={NAACL}}
@book{k, title={The Art of Computer Programming}}
"""
    page = client.post(manage_path(reader) + "papers/", {"seed_file": upload("zotero.bib", bib)})
    html = page.content.decode()
    assert "2 papers found" in html and "BibTeX" in html
    assert "1 not found" in html and "The Art of Computer Programming" in html
    assert seeds_of(reader) == [("1706.03762", 1, "seed"), ("2611.00002", 1, "seed")]


def test_it_reads_a_ris_file(client, reader, arxiv) -> None:
    ris = b"TY  - PREPRINT\nTI  - Attention Is All You Need\nUR  - http://arxiv.org/abs/1706.03762\nER  - \n"
    client.post(manage_path(reader) + "papers/", {"seed_file": upload("zotero.ris", ris)})
    assert seeds_of(reader) == [("1706.03762", 1, "seed")]


def test_a_paper_liked_already_keeps_its_rating_and_source(client, reader, arxiv) -> None:
    paper = PaperFactory(arxiv_id="2611.00001")
    Feedback.objects.create(subscriber=reader, paper=paper, value=1, source="digest")
    client.post(manage_path(reader) + "papers/", {"seed_papers": "2611.00001"})
    assert seeds_of(reader) == [("2611.00001", 1, "digest")]


def test_it_offers_the_readers_own_papers_from_the_catalogue_and_stores_only_those_ticked(
    client, reader, arxiv
) -> None:
    mine = PaperFactory(arxiv_id="2611.00003", author_names=["José Ramírez", "Bo Li"])
    also_mine = PaperFactory(arxiv_id="2611.00004", author_names=["Jose Ramirez"])
    PaperFactory(arxiv_id="2611.00005", author_names=["José Ramírez-Smith"])
    page = client.post(manage_path(reader) + "papers/by-author/", {"name": "José Ramírez"})
    html = page.content.decode()
    assert page.status_code == 200 and "Papers by José Ramírez" in html
    assert mine.arxiv_id in html and also_mine.arxiv_id in html and "2611.00005" not in html
    assert not Feedback.objects.exists() and arxiv.hits(API) == 0  # shown to confirm; nothing stored
    client.post(manage_path(reader) + "papers/", {"arxiv_id": [mine.arxiv_id]})
    assert seeds_of(reader) == [("2611.00003", 1, "seed")]


def test_it_asks_arxiv_for_an_author_the_catalogue_does_not_know(client, reader, arxiv) -> None:
    arxiv.script(
        API,
        Reply(
            body=atom(
                ("1706.03762", "Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"]),
                ("1701.06538", "Outrageously Large Neural Networks", ["Noam Shazeer"]),
                ("2001.00001", "Someone Else", ["Noam Shazeerov"]),
            )
        ),
    )
    html = client.post(manage_path(reader) + "papers/by-author/", {"name": "Noam Shazeer"}).content.decode()
    assert "1706.03762" in html and "1701.06538" in html and "2001.00001" not in html
    assert arxiv.hits(API) == 1 and not Feedback.objects.exists()


def test_when_arxiv_cannot_be_reached_it_says_so_and_stores_only_known_papers(client, reader, arxiv) -> None:
    arxiv.script(API, Reply(status=503))
    PaperFactory(arxiv_id="2611.00001")
    page = client.post(manage_path(reader) + "papers/", {"seed_papers": "2611.00001 1706.03762"})
    html = page.content.decode()
    assert "arXiv could not be reached just now" in html
    assert seeds_of(reader) == [("2611.00001", 1, "seed")]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("huge.bib", b"@misc{a, title={x}}\n" + b"%" * (64 * 1024), "too large"),
        ("photo.bib", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        ("broken.bib", b"@article{a, title={never closed", "malformed near line 1"),
        ("many.bib", b"".join(b"@misc{k%d, title={T}}\n" % n for n in range(30)), "30 entries"),
        ("notes.txt", b"shopping list: milk", "not a BibTeX, RIS or CSL JSON file"),
    ],
)
def test_a_hostile_file_gets_a_clear_error_and_changes_nothing(
    client, reader, arxiv, settings, name, data, message
) -> None:
    settings.SEED_FILE_MAX_BYTES = 32 * 1024
    settings.SEED_FILE_MAX_ENTRIES = 20
    page = client.post(manage_path(reader) + "papers/", {"seed_file": upload(name, data)})
    assert page.status_code == 400 and message in page.content.decode()
    assert not Feedback.objects.exists() and Paper.objects.count() == 0 and arxiv.hits(API) == 0


def test_script_in_a_title_is_shown_as_text(client, reader, arxiv) -> None:
    bib = b"@book{x, title={<script>alert(1)</script> Unknown}}"
    html = client.post(manage_path(reader) + "papers/", {"seed_file": upload("x.bib", bib)}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Unknown" in html and "<script>alert" not in html


def test_more_than_the_limit_of_typed_ids_is_refused(client, reader, arxiv, settings) -> None:
    settings.SEED_MAX_PAPERS = 2
    page = client.post(manage_path(reader) + "papers/", {"seed_papers": "2401.00001 2401.00002 2401.00003"})
    assert page.status_code == 400 and "Up to 2 papers at a time" in page.content.decode()
    assert arxiv.hits(API) == 0


def test_a_file_naming_more_than_the_limit_uses_the_first_and_says_so(
    client, reader, arxiv, settings
) -> None:
    settings.SEED_MAX_PAPERS = 1
    bib = b"@misc{a, eprint={1706.03762}, eprinttype=arXiv}\n@misc{b, eprint={2401.00001}, eprinttype=arXiv}"
    html = client.post(manage_path(reader) + "papers/", {"seed_file": upload("x.bib", bib)}).content.decode()
    assert "1 more were left out: at most 1 at a time" in html
    assert seeds_of(reader) == [("1706.03762", 1, "seed")]


def test_adding_papers_needs_the_csrf_token(reader, arxiv) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(manage_path(reader) + "papers/", {"seed_papers": "1706.03762"})
    assert response.status_code == 403 and not Feedback.objects.exists()


def test_a_forged_manage_link_adds_nothing(client, arxiv) -> None:
    response = client.post("/manage/forged-token-1234567890/papers/", {"seed_papers": "1706.03762"})
    assert response.status_code == 404 and not Feedback.objects.exists()


def test_an_empty_submission_asks_for_papers(client, reader) -> None:
    page = client.post(manage_path(reader) + "papers/", {"seed_papers": ""})
    assert page.status_code == 400 and "Give an arXiv id or link, or choose a file." in page.content.decode()
