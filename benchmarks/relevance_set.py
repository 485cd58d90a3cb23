"""The labelled set of the relevance evaluation (benchmarks/relevance/), its metrics and its baseline.

No database and no Django: benchmarks/relevance.py drives papermail with this
data, and tests/test_py pins the metrics and the files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "relevance"
# Real feeds saved from public repositories (see their SOURCES.md); read at run time, never copied here.
SHARED_FEEDS = ROOT.parent / "shared" / "fixtures" / "feeds"
GRADES = (0, 1, 2)
RELEVANT = 2  # P@k counts the papers graded 2: what the reader really wants
K = 10


@dataclass(frozen=True)
class Reader:
    slug: str
    wants: str  # the hidden interest the grades follow
    grading: dict[str, str]  # what 2, 1 and 0 mean for this reader
    preferences: dict[str, object]  # what the reader types at sign-up

    @property
    def email(self) -> str:
        return f"reader-{self.slug}@example.org"


@dataclass(frozen=True)
class Written:
    """A paper written for the set, announced on ``day`` (1-4) through an arXiv RSS feed."""

    arxiv_id: str
    day: int
    categories: tuple[str, ...]
    authors: str
    title: str
    abstract: str


@dataclass(frozen=True)
class LabelledSet:
    dates: tuple[dt.date, ...]  # the announcement date of day 1, 2, 3, 4
    readers: tuple[Reader, ...]
    grades: dict[str, dict[str, int]]  # arXiv id -> reader slug -> 0/1/2
    written: tuple[Written, ...]
    real: tuple[tuple[str, str, int], ...]  # (arXiv id, file under SHARED_FEEDS, day)

    @property
    def day_of(self) -> dict[str, int]:
        return {**{p.arxiv_id: p.day for p in self.written}, **{i: day for i, _, day in self.real}}

    def on_day(self, day: int) -> list[str]:
        return sorted(arxiv_id for arxiv_id, d in self.day_of.items() if d == day)


def load(data: Path = DATA) -> LabelledSet:
    """Return the labelled set stored under ``data``."""
    meta = json.loads((data / "readers.json").read_text(encoding="utf-8"))
    readers = tuple(
        Reader(
            slug=r["slug"],
            wants=r["wants"],
            grading={grade: r[f"grade_{grade}"] for grade in ("2", "1", "0")},
            preferences=r["preferences"],
        )
        for r in meta["readers"]
    )
    with open(data / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {
            row["arxiv_id"]: {reader.slug: int(row[reader.slug]) for reader in readers}
            for row in csv.DictReader(handle)
        }
    with open(data / "real.csv", newline="", encoding="utf-8") as handle:
        real = tuple((row["arxiv_id"], row["file"], int(row["day"])) for row in csv.DictReader(handle))
    return LabelledSet(
        dates=tuple(dt.date.fromisoformat(day) for day in meta["days"]),
        readers=readers,
        grades=grades,
        written=tuple(parse_written((data / "papers.txt").read_text(encoding="utf-8"))),
        real=real,
    )


def parse_written(text: str) -> list[Written]:
    """Return the papers of papers.txt: blank-line separated records of "key: value" lines."""
    papers = []
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if line and not line.startswith("#")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        papers.append(
            Written(
                arxiv_id=fields["id"],
                day=int(fields["day"]),
                categories=tuple(fields["cats"].split()),
                authors=fields["authors"],
                title=fields["title"],
                abstract=fields["abstract"],
            )
        )
    return papers


def problems(labelled: LabelledSet) -> list[str]:
    """Return what is wrong with the set: ungraded papers, grades out of range, bad days, duplicates."""
    found = []
    ids = [p.arxiv_id for p in labelled.written] + [i for i, _, _ in labelled.real]
    if len(ids) != len(set(ids)):
        found.append("a paper is listed twice")
    slugs = [reader.slug for reader in labelled.readers]
    for arxiv_id in ids:
        graded = labelled.grades.get(arxiv_id)
        if graded is None:
            found.append(f"{arxiv_id} has no grades")
        elif any(graded.get(slug) not in GRADES for slug in slugs):
            found.append(f"{arxiv_id} lacks a 0/1/2 grade for some reader")
    found += [f"{i} is graded but not in the set" for i in set(labelled.grades) - set(ids)]
    found += [f"{i} is on day {d}" for i, d in labelled.day_of.items() if d not in (1, 2, 3, 4)]
    if len(labelled.dates) != 4:
        found.append("the set needs four announcement dates")
    return found


# --- The written papers as arXiv would announce them --------------------------------------------

MAIN_ARCHIVES = ("cs.", "stat.")


def render_day(papers: Iterable[Written], date: dt.date) -> bytes:
    """Return one day's written papers as an arXiv RSS document (the rss.arxiv.org format of 2024 on).

    A paper whose primary category is outside cs and stat is announced as a
    cross-list, as in a cs+stat listing.
    """
    stamp = f"{date:%a, %d %b %Y}"
    items = []
    for paper in papers:
        kind = "new" if paper.categories[0].startswith(MAIN_ARCHIVES) else "cross"
        categories = "".join(f"\n      <category>{c}</category>" for c in paper.categories)
        items.append(
            f"""    <item>
      <title>{escape(paper.title)}</title>
      <link>https://arxiv.org/abs/{paper.arxiv_id}</link>
      <description>arXiv:{paper.arxiv_id}v1 Announce Type: {kind} \nAbstract: {escape(paper.abstract)}</description>
      <guid isPermaLink="false">oai:arXiv.org:{paper.arxiv_id}v1</guid>{categories}
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>
      <dc:creator>{escape(paper.authors)}</dc:creator>
    </item>
"""
        )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs+stat updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs+stat</link>
    <description>cs+stat updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs+stat" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{stamp} 05:00:02 +0000</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{stamp} 00:00:00 -0500</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
{"".join(items)}  </channel>
</rss>
""".encode()


def feed_path(date: dt.date, data: Path = DATA) -> Path:
    return data / "feeds" / f"arxiv_rss_cs+stat_{date.isoformat()}.xml"


# --- Metrics -------------------------------------------------------------------------------------


def precision_at(ranked: Sequence[int], *, k: int = K, relevant: int = RELEVANT) -> float:
    """Return P@k of a ranking given as its papers' grades: the share of the k slots holding a relevant paper.

    A digest shorter than k counts its empty slots as misses.
    """
    return sum(1 for grade in ranked[:k] if grade >= relevant) / k


def dcg(gains: Iterable[int]) -> float:
    """Return the discounted cumulative gain of gains in rank order (linear gains, log2 discount)."""
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at(ranked: Sequence[int], pool: Iterable[int], *, k: int = K) -> float:
    """Return nDCG@k of a ranking (its papers' grades), the ideal being the best k grades of ``pool``."""
    ideal = dcg(sorted(pool, reverse=True)[:k])
    return dcg(ranked[:k]) / ideal if ideal else 0.0


def ceiling_precision(pool: Iterable[int], *, k: int = K, relevant: int = RELEVANT) -> float:
    """Return the best P@k any ranking of ``pool`` can reach (fewer than k relevant papers cap it)."""
    return min(k, sum(1 for grade in pool if grade >= relevant)) / k


@dataclass
class Leg:
    """What one leg's readers received on day 4 and the presses they made before."""

    name: str
    day4: dict[str, list[str]] = field(default_factory=dict)  # reader -> digest, in order
    liked: dict[str, set[str]] = field(default_factory=dict)
    disliked: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""  # what the readers gave: presses, likes trained on, seeds


# --- Scores and the report of a run ----------------------------------------------------------------


def scores(labelled: LabelledSet, readers: tuple[Reader, ...], leg: Leg) -> dict[str, tuple[float, float]]:
    """Return each reader's (P@10, nDCG@10) for the leg's day-4 digest."""
    day4 = labelled.on_day(4)
    result = {}
    for reader in readers:
        ranked = leg.day4.get(reader.slug, [])
        gains = [labelled.grades[i][reader.slug] for i in ranked]
        # The ideal also counts any older paper a digest brought back, so nDCG stays within 1.
        pool = [labelled.grades[i][reader.slug] for i in sorted(set(day4) | set(ranked))]
        result[reader.slug] = (precision_at(gains), ndcg_at(gains, pool))
    return result


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(labelled: LabelledSet, readers: tuple[Reader, ...], legs: list[Leg], notes: list[str]) -> None:
    day4 = labelled.on_day(4)
    relevant = {r.slug: sum(1 for i in day4 if labelled.grades[i][r.slug] == 2) for r in readers}
    slugs = [r.slug for r in readers]
    print(f"{'leg':30} {'P@10':>6} {'nDCG@10':>8}   P@10 of {', '.join(slugs)}")
    table = {}
    for leg in legs:
        per_reader = scores(labelled, readers, leg)
        table[leg.name] = (
            mean([p for p, _ in per_reader.values()]),
            mean([n for _, n in per_reader.values()]),
        )
        detail = " ".join(f"{per_reader[s][0]:.1f}" for s in slugs)
        print(f"{leg.name:30} {table[leg.name][0]:6.2f} {table[leg.name][1]:8.2f}   {detail}  {leg.note}")
    ceiling = mean([ceiling_precision([labelled.grades[i][s] for i in day4]) for s in slugs])
    print(f"{'ceiling':30} {ceiling:6.2f} {1.0:8.2f}   {' '.join(str(relevant[s]) for s in slugs)} relevant")
    for note in notes:
        print(note)
    targets(table)


def targets(table: dict[str, tuple[float, float]]) -> None:
    learned = table.get("learned")
    baseline = table.get("baseline, learned likes")
    cold = table.get("cold start, learned")
    if learned is None or baseline is None or cold is None:
        print("targets: not measured (the learned ranking is not in this build)")
        return
    beats = learned[0] > baseline[0] and learned[1] > baseline[1]
    ratio = min(cold[0] / learned[0] if learned[0] else 0.0, cold[1] / learned[1] if learned[1] else 0.0)
    print(
        f"targets: learned beats the baseline on both metrics: {'yes' if beats else 'NO'}; "
        f"cold start / learned = {ratio:.2f} (target 0.80): {'met' if ratio >= 0.8 else 'NOT met'}"
    )


# --- The arxiv-sanity-lite baseline ------------------------------------------------------------------


def asl_ranking(texts: dict[str, str], liked: set[str], candidates: Sequence[str]) -> list[str]:
    """Return ``candidates`` ranked as arxiv-sanity-lite ranks papers for a tag.

    As its compute.py and serve.py do: tf-idf of title, abstract and authors
    over the whole catalogue (unigrams and bigrams, sublinear tf, English stop
    words, min_df 5, max_df 0.5), then a LinearSVC (C=0.01, balanced classes)
    with the tagged papers (here, the liked ones) as positives and every other
    paper of the catalogue as negatives, its decision function ordering the
    candidates. No positive, no ranking.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    ids = sorted(texts)
    if not liked & set(ids):
        return []
    vectorizer = TfidfVectorizer(
        strip_accents="unicode",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=10000,
        sublinear_tf=True,
        min_df=5,
        max_df=0.5,
    )
    x = vectorizer.fit_transform([texts[i] for i in ids]).astype(np.float32)
    y = np.array([1.0 if i in liked else 0.0 for i in ids], dtype=np.float32)
    svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
    svm.fit(x, y)
    scores = dict(zip(ids, svm.decision_function(x), strict=True))
    return sorted(candidates, key=lambda i: (-scores[i], i))
