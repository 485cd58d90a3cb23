"""Ingestion benchmark: parse-only vs parse + store vs re-ingest of an unchanged document.

Generates an arXiv RSS document of N items (default 5,000) in the 2024+ format,
then on PostgreSQL measures

* parse only: bytes -> entries (papers.feeds.parse);
* parse + store: into an empty catalogue (papers.services.papers_store);
* re-ingest: the same document again, counting the rows it writes.

Targets: parse + store >= 70% of parse-only throughput; the re-ingest writes 0 rows.

    make bench                       # or: .venv/bin/python benchmarks/ingest.py --entries 5000
    BENCH_DATABASE_URL=postgres://... .venv/bin/python benchmarks/ingest.py

It uses its own database (papermail_bench by default), created when missing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from xml.sax.saxutils import escape

from common import DEFAULT_DB, ROOT, best_of, ensure_database, host_now, machine

WORDS = (
    "language model reasoning transformer attention diffusion retrieval agent policy reward vision "
    "multimodal benchmark dataset alignment robustness scaling efficient sparse mixture experts token "
    "graph contrastive representation generalisation uncertainty calibration inference training "
    "optimisation gradient latent video speech translation planning memory tool safety evaluation"
).split()
FIRST = "José Zoë Łukasz Chen Aisha Étienne Mikael Priya Jörg Ana Kenji Nkechi".split()
TEX_FIRST = {
    "José": r"Jos\'e",
    "Zoë": r"Zo\"e",
    "Łukasz": r"{\L}ukasz",
    "Étienne": r"\'Etienne",
    "Jörg": r"J{\"o}rg",
}
LAST = ["García", "Müller", "Nowak", "Wei", "Khan", "Dubois", "Ramírez", "Sato", "Okafor", "Lindqvist"]
TEX_LAST = {"García": r"Garc\'ia", "Müller": r"M{\"u}ller", "Ramírez": r"Ram\'irez"}
CATEGORIES = ["cs.CL", "cs.LG", "cs.AI", "cs.CV", "stat.ML", "cs.IR", "cs.RO", "eess.AS"]


def make_document(entries: int, seed: int = 7) -> bytes:
    """Return an arXiv RSS document with ``entries`` items (70% new, 15% cross, 15% replace)."""
    rng = random.Random(seed)
    items = []
    for index in range(entries):
        arxiv_id = f"2611.{10000 + index:05d}"
        kind = rng.choices(["new", "cross", "replace"], weights=[70, 15, 15])[0]
        version = 1 if kind != "replace" else rng.randint(2, 4)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        abstract = ". ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 24))).capitalize() for _ in range(7)
        )
        authors = ", ".join(
            f"{TEX_FIRST.get(first, first)} {TEX_LAST.get(last, last)}"
            for first, last in ((rng.choice(FIRST), rng.choice(LAST)) for _ in range(rng.randint(1, 9)))
        )
        categories = rng.sample(CATEGORIES, rng.randint(1, 3))
        category_xml = "".join(f"<category>{c}</category>" for c in categories)
        items.append(
            f"<item><title>{escape(title)}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
            f"<description>arXiv:{arxiv_id}v{version} Announce Type: {kind} \nAbstract: {escape(abstract)}."
            f'</description><guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>'
            f"{category_xml}<arxiv:announce_type>{kind}</arxiv:announce_type>"
            f"<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>"
            f"<dc:creator>{escape(authors)}</dc:creator></item>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"><channel>'
        "<title>cs updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs</link>"
        "<description>cs updates on the arXiv.org e-print archive.</description>"
        "<lastBuildDate>Tue, 24 Nov 2026 05:00:00 +0000</lastBuildDate>"
        "<managingEditor>rss-help@arxiv.org</managingEditor>"
        "<pubDate>Tue, 24 Nov 2026 00:00:00 -0500</pubDate>"
        "<skipDays><day>Saturday</day><day>Sunday</day></skipDays>" + "".join(items) + "</channel></rss>"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="Best of this many timed runs.")
    parser.add_argument("--smoke", action="store_true", help="A quick run for CI: one timed run each.")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
    # Measure production settings: DEBUG on would record every query.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-" + os.urandom(32).hex())
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("PAPERMAIL_VAR_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from papers import feeds, services
    from papers.models import Paper

    call_command("migrate", verbosity=0)
    data = make_document(args.entries)
    print(f"ingest benchmark: {args.entries:,} arXiv RSS items, {len(data) / 1e6:.1f} MB")
    print(f"machine: {machine()}")
    print(host_now())
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"database: PostgreSQL {cursor.fetchone()[0]}")

    parse_seconds = best_of(runs, lambda: feeds.parse(data))

    def fresh_store() -> None:
        Paper.objects.all().delete()
        start = time.perf_counter()
        parsed = feeds.parse(data)
        services.papers_store(parsed=parsed, source=parsed.format)
        timings.append(time.perf_counter() - start)

    timings: list[float] = []
    for _ in range(runs):
        fresh_store()
    store_seconds = min(timings)
    stored = Paper.objects.count()

    def reingest() -> services.StoreResult:
        parsed = feeds.parse(data)
        return services.papers_store(parsed=parsed, source=parsed.format)

    reingest_seconds = best_of(runs, reingest)
    with CaptureQueriesContext(connection) as queries:
        result = reingest()
    writes = sum(1 for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")))

    n = args.entries
    parse_rate, store_rate, reingest_rate = n / parse_seconds, n / store_seconds, n / reingest_seconds
    ratio = store_rate / parse_rate
    print(f"{'parse only':<22}{parse_rate:>10,.0f} entries/s  ({parse_seconds:.2f} s)")
    print(f"{'parse + store':<22}{store_rate:>10,.0f} entries/s  ({store_seconds:.2f} s, {stored:,} papers)")
    print(f"{'re-ingest unchanged':<22}{reingest_rate:>10,.0f} entries/s  ({reingest_seconds:.2f} s)")
    print(f"parse + store / parse only: {ratio:.0%}  (target >= 70%: {'met' if ratio >= 0.7 else 'MISSED'})")
    print(
        f"re-ingest: {result.new} new, {result.updated} updated, {result.unchanged} unchanged; "
        f"{writes} write statements  (target 0: {'met' if writes == 0 else 'MISSED'})"
    )
    if writes or result.new or result.updated or stored != n:
        print("FAIL: re-ingesting an unchanged document must write nothing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
