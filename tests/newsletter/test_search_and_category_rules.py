"""Saved searches and followed arXiv categories are rules of digest selection, like topics and keywords."""

from __future__ import annotations

import pytest

from newsletter import dispatch, learned, planning, profiles, rendering
from newsletter.candidates import Candidate, CandidatePool, Profile, Reasons, SearchRule
from subscribers.models import SavedSearch, Subscriber
from tests.factories import PaperFactory, SubscriberFactory
from tests.newsletter.conftest import DAY, PARIS_SEVEN

pytestmark = pytest.mark.django_db


def planned() -> planning.ChunkPlan:
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    ids = [pk for chunk in result.chunks for pk in chunk]
    return planning.chunk_plan(deliveries=planning.deliveries_for_chunk(ids))


def digests() -> dict[str, list[tuple[str, str]]]:
    """Return each reader's planned digest as (title, why) pairs."""
    plan = planned()
    return {
        p.delivery.subscriber.email: [(plan.papers[pick.paper_id].title, pick.why) for pick in p.picks]
        for p in plan.planned
    }


def reader(email: str, *, searches=(), **fields) -> Subscriber:
    subscriber = SubscriberFactory(email=email, **fields)
    for query, filters in searches:
        SavedSearch.objects.create(subscriber=subscriber, query=query, filters=filters)
    return subscriber


@pytest.fixture
def crosslisted():
    return PaperFactory(
        arxiv_id="2611.00007",
        title="Learning to grasp",
        categories=["cs.LG", "cs.RO"],
        primary_category="cs.LG",
        announced_on=DAY,
    )


def test_it_brings_a_paper_matching_a_saved_search_with_that_why(papers) -> None:
    reader("s@example.org", searches=[("verifier", {})])
    assert digests()["s@example.org"] == [
        ("Reasoning with verifiers", "matches your search “verifier” · trending: 142 upvotes")
    ]


def test_it_reads_a_saved_search_as_the_site_does_with_its_category_filter(papers) -> None:
    reader("cl@example.org", searches=[("robot -vision", {"category": "cs.RO"})])
    reader("cv@example.org", searches=[("robot", {"category": "cs.CV"})])
    found = digests()
    assert found["cl@example.org"] == [("Robot hands", "matches your search “robot -vision”")]
    assert found["cv@example.org"] == []


def test_it_lets_an_excluded_keyword_veto_a_saved_search_and_a_category(papers) -> None:
    reader("veto@example.org", searches=[("robot", {})], categories=["cs.RO"], excluded_keywords=["hands"])
    assert digests()["veto@example.org"] == []


def test_it_brings_a_followed_categorys_papers_by_name_and_cross_lists_only_when_asked(
    papers, crosslisted
) -> None:
    reader("primary@example.org", categories=["cs.RO"], include_crosslists=False)
    reader("cross@example.org", categories=["cs.RO"], include_crosslists=True)
    found = digests()
    assert found["primary@example.org"] == [("Robot hands", "in Robotics")]
    assert sorted(found["cross@example.org"]) == [
        ("Learning to grasp", "in Robotics"),
        ("Robot hands", "in Robotics"),
    ]


def test_it_names_a_topic_and_a_followed_category_once_each(papers, llm) -> None:
    reader("both@example.org", topics=[llm], categories=["cs.CL"])
    whys = dict(digests()["both@example.org"])
    assert (
        whys["Parsing at scale"] == "in Language models and Computation and Language · trending: 12 upvotes"
    )


def test_it_shares_a_selection_between_readers_with_equal_rules_only(papers, crosslisted) -> None:
    primary = {"categories": ["cs.RO"], "include_crosslists": False}
    reader("a@example.org", searches=[("robot", {})], **primary)
    reader("b@example.org", searches=[("robot", {})], **primary)
    reader("c@example.org", searches=[("robot", {})], categories=["cs.RO"], include_crosslists=True)
    reader("d@example.org", searches=[("grasp", {})], **primary)
    a, b, c, d = (p.picks for p in planned().planned)
    assert a is b
    assert a is not c and a is not d
    assert c != a and d != a


def test_it_parses_each_distinct_saved_query_once_per_chunk(papers, monkeypatch) -> None:
    parsed: list[str] = []
    original = profiles.parse_query
    monkeypatch.setattr(profiles, "parse_query", lambda text: parsed.append(text) or original(text))
    for n in range(20):
        reader(f"p{n}@example.org", searches=[("robot", {}), ("verifier", {"category": "cs.CL"})])
    planned()
    assert sorted(parsed) == ["robot", "verifier"]


def _plan_queries(count: int, django_assert_num_queries, expected: int) -> None:
    for n in range(count):
        reader(
            f"q{count}-{n}@example.org",
            searches=[("robot", {}), (f"verifier {n}", {"category": "cs.CL"})],
            categories=["cs.RO", "cs.CL"],
            include_crosslists=n % 2 == 0,
        )
    result = dispatch.digests_dispatch(now=PARIS_SEVEN)
    ids = [pk for chunk in result.chunks for pk in chunk]
    with django_assert_num_queries(expected):
        plan = planning.chunk_plan(deliveries=planning.deliveries_for_chunk(ids))
    assert len(plan.planned) == count
    assert all(p.picks for p in plan.planned)


def test_planning_saved_searches_and_categories_takes_the_same_queries_for_one_or_fifty(
    papers, django_assert_num_queries
) -> None:
    _plan_queries(1, django_assert_num_queries, expected=12)
    Subscriber.objects.all().delete()
    _plan_queries(50, django_assert_num_queries, expected=12)


def test_it_says_in_why_you_receive_this_which_searches_and_categories_you_follow() -> None:
    profile = Profile(searches=(SearchRule("graph neural", "cs.LG"),), categories=("cs.RO",))
    assert rendering.interests_of(profile) == "the search “graph neural”, Robotics"


def test_it_lets_readers_differing_only_by_rules_that_match_nothing_share_a_selection() -> None:
    pool = CandidatePool([Candidate(1, "Robot hands", "", ("cs.RO",), "cs.RO", ("Ann Lee",))])
    plain = Profile(categories=("cs.RO",))
    extra = Profile(
        categories=("cs.RO", "hep-th"), include_crosslists=False, searches=(SearchRule("quantum gravity"),)
    )
    assert pool.effective(extra) == pool.effective(plain)
    assert pool.effective(Profile(searches=(SearchRule("robot"),))) != pool.effective(plain)


def test_it_gives_the_same_whys_when_a_learned_model_orders_the_digest() -> None:
    paper = Candidate(1, "Robot hands", "", ("cs.RO",), "cs.RO", ("Ann Lee",))
    why = Reasons(searches=["robot"], categories=["cs.RO"])
    line = learned.why_line(paper, why, like="", discovery=False)
    assert line == "matches your search “robot” · in Robotics"
