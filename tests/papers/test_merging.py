"""The merge rules on their own: an entry from a source updates a paper's state, no database."""

from __future__ import annotations

import datetime as dt

from papers import merging
from papers.feeds.entries import ARXIV_API, ARXIV_RSS, HF_JSON, PaperEntry

NOW = dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC)


def merged(*steps: tuple[PaperEntry, str]) -> merging.State:
    state = merging.empty_state(NOW)
    for entry, source in steps:
        state = merging.merge_entry(state, entry, source=source)
    return state


def test_it_lets_arxiv_overwrite_what_hugging_face_said_first() -> None:
    state = merged(
        (PaperEntry("2611.18230", title="HF title", abstract="HF abstract"), HF_JSON),
        (PaperEntry("2611.18230", version=1, title="arXiv title"), ARXIV_RSS),
    )
    assert state["title"] == "arXiv title"
    assert state["abstract"] == "HF abstract"  # arXiv said nothing of it
    assert state["sources"] == [HF_JSON, ARXIV_RSS]


def test_it_never_lets_an_older_version_overwrite_the_bibliography() -> None:
    state = merged(
        (PaperEntry("2611.18230", version=2, title="Second"), ARXIV_RSS),
        (PaperEntry("2611.18230", version=1, title="First", categories=("cs.LG",)), ARXIV_RSS),
    )
    assert state["title"] == "Second"
    assert state["version"] == 2
    assert state["categories"] == ["cs.LG"]  # an older entry still adds what it knows


def test_it_replaces_the_categories_with_a_newer_arxiv_version() -> None:
    state = merged(
        (
            PaperEntry("2611.18230", version=1, primary_category="cs.CL", categories=("cs.CL", "cs.AI")),
            ARXIV_RSS,
        ),
        (PaperEntry("2611.18230", version=2, categories=("cs.LG",)), ARXIV_RSS),
    )
    assert state["categories"] == ["cs.CL", "cs.LG"]  # the primary stays, first


def test_it_takes_the_primary_category_from_the_arxiv_api() -> None:
    state = merged(
        (PaperEntry("2611.18230", version=1, primary_category="cs.CL", categories=("cs.CL",)), ARXIV_RSS),
        (PaperEntry("2611.18230", version=1, primary_category="cs.LG", categories=("cs.LG",)), ARXIV_API),
    )
    assert state["primary_category"] == "cs.LG"
    assert state["categories"] == ["cs.CL", "cs.LG"]


def test_it_keeps_the_earliest_announcement_and_the_latest_update() -> None:
    early, late = dt.date(2026, 11, 20), dt.date(2026, 11, 24)
    state = merged(
        (PaperEntry("2611.18230", announced_on=late, updated_at=NOW), ARXIV_RSS),
        (PaperEntry("2611.18230", announced_on=early, updated_at=NOW - dt.timedelta(days=3)), ARXIV_RSS),
    )
    assert state["announced_on"] == early
    assert state["updated_at"] == NOW


def test_it_lets_the_latest_hugging_face_signal_win_and_keeps_the_first_links() -> None:
    state = merged(
        (PaperEntry("2611.18230", upvotes=10, abs_url="https://arxiv.org/abs/2611.18230"), HF_JSON),
        (PaperEntry("2611.18230", upvotes=4, abs_url="https://example.org/other"), HF_JSON),
    )
    assert state["upvotes"] == 4
    assert state["abs_url"] == "https://arxiv.org/abs/2611.18230"


def test_it_marks_a_paper_trending_once_when_it_reaches_the_threshold() -> None:
    entry = PaperEntry("2611.18230", upvotes=120)
    state = merging.merge_entries(
        merging.empty_state(NOW), [entry], source=HF_JSON, now=NOW, trending_upvotes=100
    )
    assert state["trending_since"] == NOW
    later = merging.merge_entries(
        state, [entry], source=HF_JSON, now=NOW + dt.timedelta(days=1), trending_upvotes=100
    )
    assert later["trending_since"] == NOW
    assert not merging.changed(state, later)
