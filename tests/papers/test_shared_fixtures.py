"""The parsers against real documents in ../shared/fixtures/feeds (present in CI and dev).

Counts and quirks come from that folder's SOURCES.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from papers import feeds
from papers.feeds.entries import ARXIV_API, ARXIV_RSS, HF_JSON, HF_RSS, FeedError
from tests.conftest import SHARED_FEEDS

pytestmark = pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason="../shared/fixtures/feeds is not here")


def real(name: str) -> bytes:
    return (SHARED_FEEDS / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("arxiv_rss_stat_2024-03-26.xml", ARXIV_RSS, 123),
        ("arxiv_rss_test-archive_empty_2024-11-28.xml", ARXIV_RSS, 0),
        ("arxiv_api_query_all-testing_start0_max100_2026-04-12.atom", ARXIV_API, 100),
        ("arxiv_api_idlist_2104.12255v1_2026-04-12.atom", ARXIV_API, 1),
        ("arxiv_api_idlist_1605.08386_2026-04-12.atom", ARXIV_API, 1),
        ("arxiv_api_idlist_astro-ph_0601001_oldstyle_id_2026-05-11.atom", ARXIV_API, 1),
        ("arxiv_api_idlist_0808.05394_1707.08567_2026-04-12.atom", ARXIV_API, 1),
        ("arxiv_api_idlist_0000.0000_empty_2026-04-12.atom", ARXIV_API, 0),
        ("arxiv_api_legacy_query_au-del_maestro_2016-10-09.atom", ARXIV_API, 10),
        ("arxiv_api_legacy_idlist_1111.2011v2_2016-10.atom", ARXIV_API, 1),
        ("hf_daily_papers_api_2024-06-13.json", HF_JSON, 21),
        ("hf_daily_papers_api_2025-06-13.json", HF_JSON, 26),
        ("hf_daily_papers_api_2026-08-18.json", HF_JSON, 29),
        ("hf_daily_papers_rss_feedgen_2026-08-08.xml", HF_RSS, 30),
        ("hf_daily_papers_rss_feedgen_1item_2026-08-07.xml", HF_RSS, 1),
    ],
)
def test_it_reads_every_entry_of_each_real_document(name: str, fmt: str, count: int) -> None:
    parsed = feeds.parse(real(name))
    assert parsed.format == fmt
    assert len(parsed.entries) == count
    assert parsed.skipped == []
    assert all(entry.title for entry in parsed.entries)


def test_it_counts_announce_types_in_the_real_stat_feed() -> None:
    parsed = feeds.parse(real("arxiv_rss_stat_2024-03-26.xml"))
    assert Counter(e.announce_type for e in parsed.entries) == {
        "new": 35,
        "cross": 27,
        "replace": 41,
        "replace-cross": 20,
    }
    assert parsed.announced_on == dt.date(2024, 3, 26)
    assert sum(1 for e in parsed.entries if e.announced_on) == 62


def test_it_decodes_tex_accents_in_the_real_stat_feed() -> None:
    entries = {e.arxiv_id: e for e in feeds.parse(real("arxiv_rss_stat_2024-03-26.xml")).entries}
    assert entries["2403.16163"].author_names == (
        "Oren Wright",
        "Yorie Nakahira",
        "José M. F. Moura",
    )
    assert entries["2306.17667"].author_names[1] == "Jakob Knollmüller"
    assert entries["2310.01327"].author_names[1] == "Étienne Marcotte"
    assert not any("\\" in name for e in entries.values() for name in e.author_names)


def test_real_error_documents_are_errors() -> None:
    with pytest.raises(FeedError, match="Bad archive 'astroph'"):
        feeds.parse(real("arxiv_rss_error_bad-archive_astroph_2024-11-28.xml"))
    with pytest.raises(FeedError, match="incorrect id format for abc"):
        feeds.parse(real("arxiv_api_error_400_incorrect_id_abc_2026-04-12.atom"))


def test_it_reads_the_real_old_style_id_and_journal_ref() -> None:
    entry = feeds.parse(real("arxiv_api_idlist_astro-ph_0601001_oldstyle_id_2026-05-11.atom")).entries[0]
    assert (entry.arxiv_id, entry.version, entry.primary_category) == (
        "astro-ph/0601001",
        1,
        "astro-ph",
    )
    assert entry.journal_ref == "ActaAstron.56:1-50,2006"
    assert entry.author_names == (
        "Andrew Gould",
        "Susan Dorsher",
        "B. Scott Gaudi",
        "Andrzej Udalski",
    )


def test_the_real_single_character_title_survives() -> None:
    entry = feeds.parse(real("arxiv_api_idlist_2104.12255v1_2026-04-12.atom")).entries[0]
    assert entry.title == "0"


def test_it_reads_real_hf_schemas() -> None:
    old = feeds.parse(real("hf_daily_papers_api_2024-06-13.json")).entries[0]
    assert "\n" not in old.title and old.hf_daily_on == dt.date(2024, 6, 13)
    mid = feeds.parse(real("hf_daily_papers_api_2025-06-13.json"))
    assert any(e.ai_summary for e in mid.entries) and any(e.code_url for e in mid.entries)
    assert any("Ömer Faruk Akgül" in e.author_names for e in mid.entries)
    new = feeds.parse(real("hf_daily_papers_api_2026-08-18.json")).entries[0]
    assert new.organization == "Tencent" and new.hf_daily_on == dt.date(2026, 8, 18)


def test_it_scrapes_the_real_hf_rss() -> None:
    entry = feeds.parse(real("hf_daily_papers_rss_feedgen_1item_2026-08-07.xml")).entries[0]
    assert entry.arxiv_id == "2608.06374"
    assert entry.author_names[0] == "Junfeng Li" and len(entry.author_names) == 15
    assert entry.upvotes == 0
    assert entry.abstract.startswith("Vision-Language-Action (VLA) models")
