"""The relevance evaluation's labelled set and metrics (benchmarks/relevance_set.py)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from benchmarks import relevance_set
from papers import feeds


@pytest.fixture(scope="module")
def labelled() -> relevance_set.LabelledSet:
    return relevance_set.load()


# --- Metrics, on examples worked by hand --------------------------------------------------------------


def test_it_counts_only_papers_graded_2_in_precision_at_10() -> None:
    ranked = [2, 1, 0, 2, 2, 0, 1, 2, 0, 0, 2]  # the eleventh is past the cut
    assert relevance_set.precision_at(ranked) == pytest.approx(0.4)


def test_it_counts_the_empty_slots_of_a_short_digest_as_misses() -> None:
    assert relevance_set.precision_at([2, 2, 2]) == pytest.approx(0.3)
    assert relevance_set.precision_at([]) == 0.0


def test_it_discounts_gains_by_log2_of_the_rank_plus_one() -> None:
    # 2/log2(2) + 0/log2(3) + 1/log2(4) = 2 + 0 + 0.5
    assert relevance_set.dcg([2, 0, 1]) == pytest.approx(2.5)


def test_it_takes_ideal_dcg_from_the_best_grades_of_the_whole_pool() -> None:
    ranked = [0, 2, 1]
    pool = [0, 0, 1, 2, 2, 1, 0]
    # DCG = 0 + 2/log2(3) + 1/2; ideal = 2 + 2/log2(3) + 1/2 + 1/log2(5)
    ideal = 2 + 2 / math.log2(3) + 0.5 + 1 / math.log2(5)
    assert relevance_set.ndcg_at(ranked, pool) == pytest.approx((2 / math.log2(3) + 0.5) / ideal)


def test_it_gives_a_perfect_ranking_ndcg_1_and_a_pool_without_gains_0() -> None:
    assert relevance_set.ndcg_at([2, 2, 1, 0], [0, 1, 2, 2]) == pytest.approx(1.0)
    assert relevance_set.ndcg_at([0, 0], [0, 0, 0]) == 0.0


def test_it_caps_the_precision_ceiling_by_the_number_of_relevant_papers() -> None:
    assert relevance_set.ceiling_precision([2] * 4 + [1] * 20 + [0] * 50) == pytest.approx(0.4)
    assert relevance_set.ceiling_precision([2] * 14) == pytest.approx(1.0)


def test_it_ranks_papers_like_the_liked_ones_first_in_the_baseline() -> None:
    topics = {
        "conformal": "conformal prediction sets coverage calibration quantile exchangeable",
        "video": "video diffusion generation frames motion camera temporal",
    }
    texts = {f"{name}-{i}": f"{words} paper number {i}" for name, words in topics.items() for i in range(8)}
    ranked = relevance_set.asl_ranking(texts, {"conformal-0", "conformal-1"}, ["video-7", "conformal-7"])
    assert ranked == ["conformal-7", "video-7"]
    assert relevance_set.asl_ranking(texts, set(), ["video-7"]) == []


# --- The labelled files ---------------------------------------------------------------------------


def test_it_grades_every_paper_for_every_reader(labelled: relevance_set.LabelledSet) -> None:
    assert relevance_set.problems(labelled) == []
    assert len(labelled.readers) >= 5
    assert 400 <= len(labelled.grades) <= 600
    for reader in labelled.readers:
        assert {"2", "1", "0"} <= set(reader.grading)
        for day in (1, 2, 3, 4):
            assert any(labelled.grades[i][reader.slug] == 2 for i in labelled.on_day(day)), (reader.slug, day)


def test_it_finds_a_problem_with_a_paper_left_ungraded(labelled: relevance_set.LabelledSet) -> None:
    grades = dict(labelled.grades)
    first = labelled.written[0].arxiv_id
    grades[first] = {**grades[first], labelled.readers[0].slug: 3}
    del grades[labelled.real[0][0]]
    broken = dataclasses.replace(labelled, grades=grades)
    assert relevance_set.problems(broken) == [
        f"{first} lacks a 0/1/2 grade for some reader",
        f"{labelled.real[0][0]} has no grades",
    ]


def test_it_keeps_the_rendered_feeds_in_step_with_papers_txt(labelled: relevance_set.LabelledSet) -> None:
    for day, date in enumerate(labelled.dates, start=1):
        written = [p for p in labelled.written if p.day == day]
        rendered = relevance_set.render_day(written, date)
        assert relevance_set.feed_path(date).read_bytes() == rendered, "run benchmarks/relevance/render.py"
        parsed = feeds.parse(rendered)
        assert parsed.skipped == []
        assert [e.arxiv_id for e in parsed.entries] == [p.arxiv_id for p in written]
        assert {e.announced_on for e in parsed.entries} == {date}


def test_it_finds_every_real_paper_in_the_saved_feeds(labelled: relevance_set.LabelledSet) -> None:
    wanted: dict[str, set[str]] = {}
    for arxiv_id, name, _day in labelled.real:
        wanted.setdefault(name, set()).add(arxiv_id)
    for name, ids in wanted.items():
        parsed = feeds.parse((relevance_set.SHARED_FEEDS / name).read_bytes())
        assert ids <= {e.arxiv_id for e in parsed.entries}, name
