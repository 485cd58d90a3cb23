"""Ranking for one subscriber: every rule, each with the why-line it produces. Pure, no database."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.candidates import Candidate, CandidatePool, Profile, TopicRule, phrase_pattern
from newsletter.selection import select

_ids = itertools.count(1)


def paper(
    title: str = "A paper",
    abstract: str = "",
    categories=("cs.LG",),
    authors=("Ann Lee",),
    upvotes=None,
    featured=False,
    pinned=(),
) -> Candidate:
    return Candidate(
        id=next(_ids),
        title=title,
        abstract=abstract,
        categories=tuple(categories),
        primary_category=categories[0],
        author_names=tuple(authors),
        upvotes=upvotes,
        featured=featured,
        pinned_topics=frozenset(pinned),
    )


LLM = TopicRule(
    id=1,
    name="Large language models",
    categories=frozenset({"cs.CL"}),
    include=("language model",),
    exclude=("speech",),
)
ROBOTICS = TopicRule(id=2, name="Robotics", categories=frozenset({"cs.RO"}), include=("robot",), exclude=())


def whys(profile: Profile, *papers: Candidate, exclude=frozenset()) -> list[tuple[str, str]]:
    picks = select(profile, CandidatePool(papers), exclude_ids=exclude)
    titles = {p.id: p.title for p in papers}
    return [(titles[pick.paper_id], pick.why) for pick in picks]


def test_a_followed_author_matches_without_accents_or_case() -> None:
    p = paper("Backtracking", authors=("José Ramírez", "Yann LeCun"))
    assert whys(Profile(authors=("jose ramirez",)), p) == [("Backtracking", "you follow jose ramirez")]


def test_keywords_match_whole_words_case_insensitively() -> None:
    hit = paper("RAG for long documents")
    miss = paper("Fragile systems", abstract="A fragment of drag.")
    assert whys(Profile(keywords=("rag",)), hit, miss) == [("RAG for long documents", 'matches "rag"')]


def test_a_quoted_phrase_matches_across_spacing_and_hyphens() -> None:
    hit = paper("State-space models at scale", abstract="")
    other = paper("A model of state", abstract="space is large")
    assert whys(Profile(keywords=("state space model",)), hit, other) == []  # "models" is not "model"
    assert whys(Profile(keywords=("state space models",)), hit, other) == [
        ("State-space models at scale", 'matches "state space models"')
    ]


def test_an_excluded_keyword_vetoes_the_paper() -> None:
    keep = paper("Reasoning with language models")
    drop = paper("Reasoning for robotics", abstract="robotics everywhere")
    assert whys(Profile(keywords=("reasoning",), excluded=("robotics",)), keep, drop) == [
        ("Reasoning with language models", 'matches "reasoning"')
    ]


def test_a_topic_matches_by_category() -> None:
    p = paper("Parsing", categories=("cs.CL",))
    assert whys(Profile(topics=(LLM,)), p) == [("Parsing", "in Large language models")]


def test_a_topic_matches_by_its_keywords() -> None:
    p = paper("A language model for proofs", categories=("cs.LO",))
    assert whys(Profile(topics=(LLM,)), p) == [("A language model for proofs", "in Large language models")]


def test_a_topic_exclude_keyword_vetoes_only_that_topics_match() -> None:
    speech = paper("Speech recognition", categories=("cs.CL",))
    robot_speech = paper("Speech for a robot", categories=("cs.CL",))
    result = whys(Profile(topics=(LLM, ROBOTICS)), speech, robot_speech)
    assert result == [("Speech for a robot", "in Robotics")]


def test_already_sent_papers_are_never_chosen() -> None:
    a, b = paper("Sent yesterday", categories=("cs.CL",)), paper("New today", categories=("cs.CL",))
    assert [t for t, _ in whys(Profile(topics=(LLM,)), a, b, exclude={a.id})] == ["New today"]


def test_names_and_keywords_outrank_a_broad_category() -> None:
    broad = paper("Broad match", categories=("cs.CL",), upvotes=50)
    named = paper("Named match", categories=("cs.LG",), authors=("Fei-Fei Li",))
    worded = paper("Reasoning match", categories=("cs.LG",))
    order = [
        t
        for t, _ in whys(
            Profile(topics=(LLM,), authors=("Fei-Fei Li",), keywords=("reasoning",)), broad, named, worded
        )
    ]
    assert order == ["Named match", "Reasoning match", "Broad match"]


def test_upvotes_order_equal_matches_and_appear_in_the_why_line() -> None:
    quiet = paper("Quiet", categories=("cs.CL",), upvotes=None)
    loud = paper("Loud", categories=("cs.CL",), upvotes=142)
    one = paper("One vote", categories=("cs.CL",), upvotes=1)
    assert whys(Profile(topics=(LLM,)), quiet, loud, one) == [
        ("Loud", "in Large language models · trending: 142 upvotes"),
        ("One vote", "in Large language models · trending: 1 upvote"),
        ("Quiet", "in Large language models"),
    ]


def test_the_issue_example_why_line() -> None:
    p = paper("Chains of thought", abstract="We study reasoning.", categories=("cs.CL",), upvotes=142)
    assert whys(Profile(topics=(LLM,), keywords=("reasoning",)), p) == [
        ("Chains of thought", 'matches "reasoning" · in Large language models · trending: 142 upvotes')
    ]


def test_featured_papers_are_boosted_and_say_so() -> None:
    plain = paper("Plain", categories=("cs.CL",), upvotes=10)
    featured = paper("Featured", categories=("cs.CL",), featured=True)
    assert whys(Profile(topics=(LLM,)), plain, featured)[0] == (
        "Featured",
        "in Large language models · featured by the editors",
    )


def test_a_pinned_paper_ranks_first_in_its_topic() -> None:
    loved = paper("Loved", categories=("cs.CL",), upvotes=900, authors=("Yann LeCun",))
    pinned = paper("Pinned", categories=("cs.CL",), pinned={LLM.id})
    result = whys(Profile(topics=(LLM,), authors=("Yann LeCun",)), loved, pinned)
    assert result[0] == (
        "Pinned",
        "in Large language models · pinned by the editors in Large language models",
    )


def test_a_pin_in_a_topic_not_followed_changes_nothing() -> None:
    pinned = paper("Pinned elsewhere", categories=("cs.CL",), pinned={ROBOTICS.id})
    assert whys(Profile(topics=(LLM,)), pinned) == [("Pinned elsewhere", "in Large language models")]


def test_feedback_boosts_liked_categories_and_damps_disliked_authors() -> None:
    liked = paper("Liked category", categories=("cs.CV", "cs.CL"))
    neutral = paper("Neutral", categories=("cs.CL",), upvotes=20)
    disliked = paper("Disliked author", categories=("cs.CL",), upvotes=40, authors=("Bo Li",))
    profile = Profile(
        topics=(LLM,), feedback_categories=(("cs.CV", 2.0),), feedback_authors=(("bo li", -2.0),)
    )
    result = whys(profile, liked, neutral, disliked)
    assert [t for t, _ in result] == ["Liked category", "Neutral", "Disliked author"]
    assert result[0][1] == "in Large language models · like papers you wanted more of"


def test_the_digest_is_capped_per_subscriber() -> None:
    papers = [paper(f"P{n}", categories=("cs.CL",), upvotes=n) for n in range(15)]
    assert len(whys(Profile(topics=(LLM,), max_papers=5), *papers)) == 5


def test_one_category_cannot_flood_the_digest_while_others_wait() -> None:
    flood = [paper(f"Flood {n}", categories=("cs.CL",), upvotes=100 + n) for n in range(12)]
    others = [paper(f"Arm control {n}", categories=("cs.RO",), upvotes=n) for n in range(3)]
    titles = [t for t, _ in whys(Profile(topics=(LLM, ROBOTICS), max_papers=10), *flood, *others)]
    # Every flood paper outscores the others, yet the others get in: 4 by the cap,
    # then the flood fills what is left.
    assert len(titles) == 10
    assert sum(t.startswith("Arm control") for t in titles) == 3


def test_a_single_category_subscriber_still_gets_a_full_digest() -> None:
    flood = [paper(f"Flood {n}", categories=("cs.CL",), upvotes=n) for n in range(12)]
    assert len(whys(Profile(topics=(LLM,), max_papers=10), *flood)) == 10


def test_nothing_matching_gives_nothing() -> None:
    assert whys(Profile(keywords=("quantum",)), paper("Classical things")) == []


def test_a_rule_is_evaluated_once_per_pool() -> None:
    pool = CandidatePool([paper("Reasoning", categories=("cs.CL",))])
    first = pool.phrase_hits("Reasoning")
    assert pool.phrase_hits("reasoning") is first


def test_a_keyword_matches_the_letters_pythons_case_rules_equate_with_ascii() -> None:
    # Capital I with a dot, dotless i, long s and the Kelvin sign match i, i, s and k.
    pool = CandidatePool(
        [
            paper("\u0130MAGE models"),
            paper("State \u017ftate"),
            paper("A \u212aernel method"),
            paper("d\u0131ffusion"),
            paper("nothing"),
        ]
    )
    assert [len(pool.phrase_hits(k)) for k in ("image", "state state", "kernel", "diffusion")] == [1, 1, 1, 1]


WORDS = st.text(alphabet="abcdeiksIKS-\u0130\u0131\u017f\u212a\u00e9\u00df", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.lists(WORDS, max_size=12).map(" ".join) | st.text(max_size=80), min_size=1, max_size=6),
    phrase=st.lists(WORDS, min_size=1, max_size=3).map(" ".join),
)
def test_the_quick_test_before_the_pattern_never_loses_a_match(texts: list[str], phrase: str) -> None:
    papers = [paper(title=text) for text in texts]
    pattern = phrase_pattern(" ".join(phrase.casefold().split()))
    expected = {p.id for p in papers if pattern.search(p.text)}
    assert CandidatePool(papers).phrase_hits(phrase) == expected


TOPIC_WORDS = ["language model", "robot", "speech", "reasoning", "graph"]


@st.composite
def shelves(draw):  # papers without upvotes (merit then does not depend on which are in the pool)
    count = draw(st.integers(min_value=1, max_value=60))
    papers = [
        paper(
            title=" ".join(draw(st.lists(st.sampled_from(TOPIC_WORDS), max_size=3))) or "plain",
            categories=draw(st.lists(st.sampled_from(["cs.CL", "cs.RO", "cs.LG"]), min_size=1, max_size=2)),
            authors=(draw(st.sampled_from(["Ann Lee", "Bo Li", "Yann LeCun"])),),
            featured=draw(st.booleans()),
            pinned=draw(st.sets(st.sampled_from([LLM.id, ROBOTICS.id]), max_size=1)),
        )
        for _ in range(count)
    ]
    sent = draw(st.sets(st.sampled_from([p.id for p in papers])))
    return papers, frozenset(sent)


@settings(max_examples=60, deadline=None)
@given(
    shelf=shelves(),
    topics=st.lists(st.sampled_from([LLM, ROBOTICS]), unique=True, max_size=2),
    keywords=st.lists(st.sampled_from(TOPIC_WORDS), unique=True, max_size=3),
    authors=st.lists(st.sampled_from(["ann lee", "Yann LeCun"]), unique=True, max_size=1),
    excluded=st.lists(st.sampled_from(["speech", "graph"]), max_size=1),
    max_papers=st.sampled_from([3, 10, 15]),
)
def test_papers_already_sent_are_passed_over_as_if_they_were_not_there(
    shelf, topics, keywords, authors, excluded, max_papers
) -> None:
    # Each rule reaches as far past the sent papers as it would reach into a shelf without them, and
    # every pick keeps its score and why-line; the two ways through select() must agree.
    papers, sent = shelf
    profile = Profile(
        topics=tuple(topics),
        keywords=tuple(keywords),
        authors=tuple(authors),
        excluded=tuple(excluded),
        max_papers=max_papers,
    )
    unsent = CandidatePool([p for p in papers if p.id not in sent])
    assert select(profile, CandidatePool(papers), exclude_ids=sent) == select(profile, unsent)
