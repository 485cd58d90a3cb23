"""Parsing: each of the four formats, their quirks, and documents that are not feeds."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from papers import feeds
from papers.feeds.entries import (
    ARXIV_API,
    ARXIV_RSS,
    HF_JSON,
    HF_RSS,
    FeedError,
    PaperEntry,
    ParsedFeed,
    split_arxiv_id,
    web_url,
)

UTC = dt.UTC


def by_id(parsed: ParsedFeed) -> dict[str, PaperEntry]:
    return {entry.arxiv_id: entry for entry in parsed.entries}


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("arxiv_cs.CL_2026-11-24.xml", ARXIV_RSS),
        ("arxiv_api_current.atom", ARXIV_API),
        ("arxiv_api_legacy.atom", ARXIV_API),
        ("hf_daily_papers_2026-11-24.json", HF_JSON),
        ("hf_rss.xml", HF_RSS),
    ],
)
def test_it_detects_the_format(sample, name: str, fmt: str) -> None:
    assert feeds.detect_format(sample(name)) == fmt


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "HTML page"),
        (b"<html><head><title>Login</title></head></html>", "HTML page"),
        (b"just some text", "neither XML"),
        (
            b"<?xml version='1.0'?><rss version='2.0'><channel><title>Cats</title></channel></rss>",
            "neither an arXiv",
        ),
    ],
)
def test_it_refuses_documents_that_are_not_feeds(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        feeds.parse(data)


def test_it_refuses_an_unknown_format_name(sample) -> None:
    with pytest.raises(FeedError, match="unknown format"):
        feeds.parse(sample("hf_rss.xml"), "podcast")


# --- arXiv RSS ------------------------------------------------------------------------------


def test_it_reads_every_arxiv_rss_item_with_its_announce_type(sample) -> None:
    parsed = feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml"))
    assert parsed.format == ARXIV_RSS
    assert parsed.announced_on == dt.date(2026, 11, 24)
    assert len(parsed.entries) == 12
    types = [entry.announce_type for entry in parsed.entries]
    assert types.count("new") == 8 and types.count("cross") == 2
    assert types.count("replace") == 1 and types.count("replace-cross") == 1


def test_it_splits_the_arxiv_rss_description_into_id_version_and_abstract(sample) -> None:
    entry = by_id(feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml")))["2504.03311"]
    assert entry.version == 3
    assert entry.abstract.startswith("Data filtering decisions are usually made")
    assert "Announce Type" not in entry.abstract
    assert entry.title == "Scaling Laws for Data Filtering in Language Model Pretraining"
    assert entry.abs_url == "https://arxiv.org/abs/2504.03311"


def test_it_turns_arxiv_rss_creators_into_unicode_names(sample) -> None:
    entries = by_id(feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml")))
    assert entries["2611.18201"].author_names == (
        "María Fernández",
        "Lukas Müller",
        "Chen Wei",
        "Aisha Khan",
    )
    assert entries["2611.18263"].author_names == ("Rahul Mehta", "Ingrid Sørensen", "Tomáš Dvořák")
    assert entries["2611.18230"].author_names[-1] == "Priya Raman"  # "(Meta AI, New York and Paris)" dropped


def test_it_announces_only_new_and_cross_items(sample) -> None:
    entries = by_id(feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml")))
    assert entries["2611.18201"].announced_on == dt.date(2026, 11, 24)  # new
    assert entries["2611.17702"].announced_on == dt.date(2026, 11, 24)  # cross
    assert entries["2504.03311"].announced_on is None  # replace
    assert entries["2409.11102"].announced_on is None  # replace-cross


def test_it_reads_categories_in_order_with_the_first_as_primary(sample) -> None:
    entry = by_id(feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml")))["2611.17702"]
    assert entry.categories == ("cs.CV", "cs.CL")
    assert entry.primary_category == "cs.CV"


def test_it_reads_an_optional_doi(sample) -> None:
    entries = by_id(feeds.parse(sample("arxiv_cs.CL_2026-11-24.xml")))
    assert entries["2611.18259"].doi == "10.48550/arXiv.2611.18259"
    assert entries["2611.18201"].doi == ""


def test_it_uses_the_channel_date_when_items_have_no_pubdate(sample) -> None:
    data = sample("arxiv_rss_next_day.xml")
    entries = by_id(feeds.parse(data))
    assert entries["2611.19001"].announced_on == dt.date(2026, 11, 25)
    assert entries["2611.19001"].author_names == ("Zoë Schröder", "Łukasz Kowalski", "Chen Wei")
    assert entries["2301.00042"].author_names == ("Ann Lee", "Bo Li")


def test_an_empty_arxiv_day_is_an_empty_feed_not_an_error(sample) -> None:
    parsed = feeds.parse(sample("arxiv_rss_empty.xml"))
    assert parsed.entries == [] and parsed.skipped == []
    assert parsed.announced_on == dt.date(2026, 11, 28)


def test_the_arxiv_error_feed_is_an_error_not_an_empty_day(sample) -> None:
    with pytest.raises(FeedError, match=r"arXiv answered with an error feed.*Bad category 'cs.XX'"):
        feeds.parse(sample("arxiv_rss_error.xml"))


def test_it_skips_an_rss_item_without_an_arxiv_id_and_keeps_the_rest(sample) -> None:
    data = (
        sample("arxiv_rss_next_day.xml")
        .replace(
            b"<link>https://arxiv.org/abs/2301.00042</link>",
            b"<link>https://example.org/nothing</link>",
        )
        .replace(b"arXiv:2301.00042v4 Announce", b"arXiv:junk Announce")
        .replace(b"oai:arXiv.org:2301.00042v4", b"oai:example.org:nothing")
    )
    parsed = feeds.parse(data)
    assert [e.arxiv_id for e in parsed.entries] == ["2611.18230", "2611.19001"]
    assert len(parsed.skipped) == 1 and parsed.skipped[0].position == 1


def test_truncated_xml_is_an_error_with_a_line_number(sample) -> None:
    data = sample("arxiv_cs.CL_2026-11-24.xml")
    with pytest.raises(FeedError, match=r"malformed XML: .*\(line \d+\)"):
        feeds.parse(data[: len(data) // 2])


@pytest.mark.parametrize("garbage", [b"\x80", b"\x00"])
def test_a_garbled_encoding_declaration_is_an_error_not_a_crash(sample, garbage: bytes) -> None:
    data = sample("hf_rss.xml")
    start = data.index(b"encoding=") + len(b"encoding='")
    garbled = data[:start] + garbage + data[start + 1 :]
    with pytest.raises(FeedError, match="unreadable encoding declaration"):
        feeds.parse(garbled)


# --- arXiv API -------------------------------------------------------------------------------


def test_it_reads_the_current_api_format(sample) -> None:
    parsed = feeds.parse(sample("arxiv_api_current.atom"))
    assert parsed.total_results == 2
    entry = by_id(parsed)["2611.18230"]
    assert entry.version == 2
    assert entry.title == "Self-Correcting Chain-of-Thought via Verifier-Guided Backtracking"
    assert entry.primary_category == "cs.CL"
    assert entry.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert entry.comment == "12 pages, 4 figures; v2 adds code-generation results"
    assert entry.journal_ref == "Proc. ACL 2027"
    assert entry.doi == "10.18653/v1/2027.acl-long.1"
    assert entry.pdf_url == "https://arxiv.org/pdf/2611.18230v2"
    assert entry.published_at == dt.datetime(2026, 11, 23, 17, 1, tzinfo=UTC)
    assert entry.updated_at == dt.datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert entry.author_names == ("José Ramírez", "Hannah Schmidt", "Yann LeCun", "Priya Raman")
    assert entry.announced_on is None  # a search result is not an announcement


def test_it_reads_old_style_identifiers(sample) -> None:
    entry = by_id(feeds.parse(sample("arxiv_api_current.atom")))["hep-th/9901001"]
    assert entry.version == 3
    assert entry.primary_category == "hep-th"
    assert entry.abstract == "We keep old identifiers working."


def test_it_reads_the_legacy_api_format(sample) -> None:
    entry = feeds.parse(sample("arxiv_api_legacy.atom")).entries[0]
    assert entry.arxiv_id == "1502.00001" and entry.version == 2
    assert entry.title == "Hard-Wrapped Titles in the Legacy Output Format"
    assert entry.abstract == (
        "Legacy summaries are wrapped at about eighty columns with a leading space, "
        "and every line break inside a paragraph is only layout."
    )
    assert entry.primary_category == "cond-mat.str-el"
    assert entry.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert entry.author_names == ("Ana María García", "Bob Stone")
    assert entry.pdf_url == "https://arxiv.org/pdf/1502.00001v2"
    assert entry.journal_ref == "Phys. Rev. B 0, 000001 (2015)"


def test_the_api_error_entry_is_an_error(sample) -> None:
    with pytest.raises(FeedError, match="arXiv API error: incorrect id format for xyz"):
        feeds.parse(sample("arxiv_api_error.atom"))


def test_an_empty_api_result_has_no_entries(sample) -> None:
    parsed = feeds.parse(sample("arxiv_api_empty.atom"))
    assert parsed.entries == [] and parsed.total_results == 0


# --- Hugging Face JSON -------------------------------------------------------------------------


def test_it_reads_the_2024_schema_and_unwraps_hard_line_breaks(sample) -> None:
    parsed = feeds.parse(sample("hf_daily_2024.json"))
    entry = parsed.entries[0]
    assert entry.arxiv_id == "2406.00001"
    assert entry.title == "Canonical Images With a Diffusion Prior for Video Editing"
    assert (
        entry.abstract == "We propose a canonical image representation that makes video editing consistent."
    )
    assert entry.upvotes == 32 and entry.hf_comments == 1
    assert entry.hf_daily_on == dt.date(2024, 6, 13)  # the daily list's date, not arXiv's
    assert entry.published_at == dt.datetime(2024, 6, 10, 17, 59, 46, tzinfo=UTC)
    assert entry.hf_url == "https://huggingface.co/papers/2406.00001"
    assert entry.ai_summary == ""


def test_it_skips_and_counts_broken_hf_entries(sample) -> None:
    parsed = feeds.parse(sample("hf_daily_2024.json"))
    assert len(parsed.entries) == 1
    assert [s.position for s in parsed.skipped] == [1, 2]
    assert "no arXiv identifier" in parsed.skipped[0].reason
    assert "expected an object" in parsed.skipped[1].reason


def test_it_reads_the_2025_schema(sample) -> None:
    entry = feeds.parse(sample("hf_daily_2025.json")).entries[0]
    assert entry.author_names == ("Ömer Faruk Akgül",)  # the hidden author is left out
    assert entry.ai_summary == "A dataset of 370K examples improves medical reasoning."
    assert entry.ai_keywords == ("medical reasoning", "multi-agent", "dataset")
    assert entry.code_url == "https://github.com/example/medreason"
    assert entry.hf_daily_on == dt.date(2025, 6, 13)  # submittedOnDailyAt wins over publishedAt


def test_it_reads_the_2026_schema_with_organization(sample) -> None:
    entries = by_id(feeds.parse(sample("hf_daily_papers_2026-11-24.json")))
    entry = entries["2611.18230"]
    assert entry.organization == "Meta AI"
    assert entry.upvotes == 142
    assert entry.github_stars == 426
    assert entries["2611.18263"].project_url == "https://example.org/failure-memory"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"paper": ', "malformed JSON"),
        (b'{"error": "Invalid date"}', "Hugging Face API error: Invalid date"),
        (b'{"papers": []}', "got an object"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_bad_hf_json_is_an_error(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        feeds.parse(data, HF_JSON)


def test_it_reads_flattened_hf_entries() -> None:
    data = json.dumps([{"id": "2611.00001", "title": "Flat", "upvotes": 3, "authors": ["A B"]}]).encode()
    entry = feeds.parse(data).entries[0]
    assert (entry.arxiv_id, entry.title, entry.upvotes, entry.author_names) == (
        "2611.00001",
        "Flat",
        3,
        ("A B",),
    )


# --- Hugging Face RSS ----------------------------------------------------------------------------


def test_it_scrapes_authors_upvotes_and_summary_from_hf_rss(sample) -> None:
    parsed = feeds.parse(sample("hf_rss.xml"))
    assert parsed.announced_on == dt.date(2026, 11, 24)
    entry = by_id(parsed)["2611.18263"]
    assert entry.author_names == ("Rahul Mehta", "Ingrid Sørensen", "Tomáš Dvořák")
    assert entry.upvotes == 91
    assert (
        entry.abstract == "Language-model agents that call tools repeat the same mistakes & forget lessons."
    )
    assert entry.thumbnail_url.endswith("/2611.18263.png")
    assert entry.hf_daily_on == dt.date(2026, 11, 24)
    assert by_id(parsed)["2611.17777"].upvotes == 0


# --- identifiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2403.15527", ("2403.15527", None)),
        ("2403.15527v12", ("2403.15527", 12)),
        ("http://arxiv.org/abs/2403.15527v2", ("2403.15527", 2)),
        ("https://arxiv.org/pdf/0704.0001", ("0704.0001", None)),
        ("oai:arXiv.org:2403.15527v1", ("2403.15527", 1)),
        ("astro-ph/0601001v1", ("astro-ph/0601001", 1)),
        ("http://arxiv.org/abs/math.GT/0309136", ("math.GT/0309136", None)),
        ("arXiv:cond-mat/9901001", ("cond-mat/9901001", None)),
    ],
)
def test_it_splits_arxiv_ids_from_versions(text: str, expected: tuple[str, int | None]) -> None:
    assert split_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1234.567", "https://example.org/2403"])
def test_it_refuses_text_without_an_arxiv_id(text: str) -> None:
    with pytest.raises(ValueError):
        split_arxiv_id(text)


def test_control_characters_never_reach_the_entries() -> None:
    data = json.dumps(
        [
            {
                "paper": {
                    "id": "2611.00009",
                    "title": "Nul\x00 and\x07 bell",
                    "summary": "a\x00b",
                    "authors": [{"name": "Ann\x00 Lee"}],
                }
            }
        ]
    ).encode()
    entry = feeds.parse(data).entries[0]
    assert (entry.title, entry.abstract, entry.author_names) == ("Nul and bell", "ab", ("Ann Lee",))


# --- URLs a feed supplies ----------------------------------------------------------------------

UNSAFE_URLS = [
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "ftp://files.example.org/code.tar",
    "https://github.com/" + "a" * 600,
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_drops_hugging_face_json_urls_that_are_not_http_and_keeps_the_paper(url: str) -> None:
    data = json.dumps(
        [
            {
                "paper": {
                    "id": "2611.00001",
                    "title": "Links",
                    "githubRepo": url,
                    "projectPage": url,
                },
                "thumbnail": url,
            }
        ]
    ).encode()
    entry = feeds.parse(data, HF_JSON).entries[0]
    assert entry.title == "Links"
    assert (entry.code_url, entry.project_url, entry.thumbnail_url) == ("", "", "")


def test_it_keeps_http_and_https_urls_from_hugging_face_json() -> None:
    data = json.dumps(
        [
            {
                "paper": {
                    "id": "2611.00001",
                    "title": "Links",
                    "githubRepo": "HTTPS://github.com/example/code",
                    "projectPage": "http://example.org/project",
                },
                "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2611.00001.png",
            }
        ]
    ).encode()
    entry = feeds.parse(data, HF_JSON).entries[0]
    assert entry.code_url == "HTTPS://github.com/example/code"
    assert entry.project_url == "http://example.org/project"
    assert entry.thumbnail_url.endswith("/2611.00001.png")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:application/pdf;base64,JVBERi0="])
def test_an_unsafe_api_pdf_link_falls_back_to_the_canonical_one(sample, url: str) -> None:
    data = sample("arxiv_api_current.atom").replace(
        b'href="https://arxiv.org/pdf/2611.18230v2"', f'href="{url}"'.encode()
    )
    entry = by_id(feeds.parse(data))["2611.18230"]
    assert entry.pdf_url == "https://arxiv.org/pdf/2611.18230"


def test_an_unsafe_hf_rss_thumbnail_is_dropped(sample) -> None:
    data = sample("hf_rss.xml")
    parsed_before = by_id(feeds.parse(data))["2611.18263"]
    unsafe = data.replace(parsed_before.thumbnail_url.encode(), b"javascript:alert(1)")
    assert unsafe != data
    entry = by_id(feeds.parse(unsafe))["2611.18263"]
    assert entry.thumbnail_url == "" and entry.title == parsed_before.title


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_web_url_keeps_only_http_and_https(url: str) -> None:
    assert web_url(url) == ""
