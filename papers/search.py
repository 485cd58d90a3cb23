"""What a search means, without a database: parsing its words and telling whether a paper matches.

The site's search is PostgreSQL's ``websearch_to_tsquery('english', ...)`` over
a paper's title, abstract and authors. This module gives the same reading in
Python, for the SQLite fallback and for saved searches in digest selection:
words are lower-cased, English stop words dropped and each word reduced to its
Snowball (Porter2) stem, the stemmer PostgreSQL's English configuration uses.

Syntax, as websearch_to_tsquery reads it: words must all appear (in any order,
any form: "models" finds "model"); ``"a phrase"`` must appear as written;
``-word`` must not appear; ``a or b`` takes either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import snowballstemmer

MAX_QUERY_LENGTH = 200
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_WORD_RE = re.compile(r"\w+")
_TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# PostgreSQL's english.stop (the Snowball list): these words are not indexed, nor searched for.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why how all
    any both each few more most other some such no nor not only own same so than too very s t can will
    just don should now""".split()
)
_stemmer = snowballstemmer.stemmer("english")


class Searchable(Protocol):
    title: str
    abstract: str
    author_names: Sequence[str]
    categories: Sequence[str]


def clean_query(text: str) -> str:
    """Return the query as it will be searched: control characters removed, spaces collapsed, capped."""
    return " ".join(_CONTROL_RE.sub(" ", text or "").split())[:MAX_QUERY_LENGTH]


def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def stems(text: str) -> list[str]:
    """Return the indexed stems of ``text`` in order: lower-cased words, stop words dropped, stemmed."""
    return [stem(word) for word in _WORD_RE.findall(text.casefold()) if word not in STOP_WORDS]


@dataclass(frozen=True)
class Term:
    """A word or phrase of a query, as stems; a negated term must not appear."""

    stems: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """A query as alternatives (joined by "or"); an alternative holds when all its terms do."""

    alternatives: tuple[tuple[Term, ...], ...]

    @property
    def empty(self) -> bool:
        """Whether no alternative asks for anything to be present (a query of stop words, say)."""
        return not any(not term.negated for group in self.alternatives for term in group)

    def positive_stems(self) -> list[str]:
        return [s for group in self.alternatives for term in group if not term.negated for s in term.stems]


def parse_query(text: str) -> ParsedQuery:
    """Return the query's alternatives, reading ``text`` as websearch_to_tsquery does.

    "or" separates alternatives: ``a b or c d`` is (a and b) or (c and d).
    """
    groups: list[list[Term]] = [[]]
    for match in _TOKEN_RE.finditer(clean_query(text)):
        minus, phrase, word = match.groups()
        if word is not None and word.casefold() == "or":
            if groups[-1]:
                groups.append([])
            continue
        negated = bool(minus) or (word is not None and word.startswith("-"))
        words = stems(phrase if phrase is not None else word.lstrip("-"))
        if words:
            groups[-1].append(Term(tuple(words), negated))
    return ParsedQuery(tuple(tuple(group) for group in groups if group))


def _contains(sequence: Sequence[str], words: tuple[str, ...], present: frozenset[str]) -> bool:
    if len(words) == 1:
        return words[0] in present
    if not all(word in present for word in words):
        return False
    width = len(words)
    return any(tuple(sequence[i : i + width]) == words for i in range(len(sequence) - width + 1))


def meaning_text(text: str) -> str:
    """Return the words a query asks for, as typed: what its meaning is embedded from.

    Negated terms and "or" say nothing about what the reader wants to find, so they are left out;
    quotes are dropped (an embedder reads words, not phrases).
    """
    words = []
    for match in _TOKEN_RE.finditer(clean_query(text)):
        minus, phrase, word = match.groups()
        if word is not None and (word.casefold() == "or" or word.startswith("-")):
            continue
        if not minus:
            words.append(phrase if phrase is not None else word)
    return " ".join(" ".join(words).split())


def document_stems(paper: Searchable) -> list[str]:
    """Return the stems of what a search reads of a paper: its title, abstract and authors."""
    return stems(" ".join([paper.title or "", paper.abstract or "", " ".join(paper.author_names or [])]))


def matches(query: ParsedQuery, document: Sequence[str]) -> bool:
    """Return whether a document (its stems, from ``document_stems``) satisfies every clause of ``query``."""
    if query.empty:
        return False
    present = frozenset(document)
    return any(
        all(_contains(document, term.stems, present) != term.negated for term in group)
        for group in query.alternatives
    )


def paper_matches_search(paper: Searchable, *, query: str, category: str = "") -> bool:
    """Return whether ``paper`` is one the site's search for ``query`` (in ``category``) finds.

    For saved searches in digest selection: a paper matches when the search
    page would list it (its date aside).
    """
    if category and category not in (paper.categories or ()):
        return False
    return matches(parse_query(query), document_stems(paper))


def score(query: ParsedQuery, paper: Searchable) -> float:
    """Return a rank for a matching paper: terms found in the title count most, then the abstract."""
    title = frozenset(stems(paper.title or ""))
    abstract = frozenset(stems(paper.abstract or ""))
    wanted = query.positive_stems()
    return sum(2.0 if s in title else 1.0 if s in abstract else 0.5 for s in wanted) / max(len(wanted), 1)


def prefilter_fragments(query: ParsedQuery) -> Iterable[str]:
    """Return text that every matching paper contains (nothing when the query has alternatives).

    A stem may end differently from the word (``studi`` for "study"), so each
    fragment drops a stem's last letter: a cheap ``icontains`` test that rules
    out no match, before ``matches`` decides.
    """
    if len(query.alternatives) != 1:
        return
    for term in query.alternatives[0]:
        if not term.negated:
            longest = max(term.stems, key=len)
            yield longest[:-1] if len(longest) > 3 else longest
