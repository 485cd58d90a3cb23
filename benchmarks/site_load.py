"""The public site under load: 50,000 papers in PostgreSQL, gunicorn with production settings, wrk.

    .venv/bin/python benchmarks/site_load.py [--papers 50000] [--connections 50] [--duration 30] [--smoke]

Seeds the benchmark database with papers over announcement days (a thousand a
day, a few percent with Hugging Face upvotes, titles and abstracts drawn from a
vocabulary of machine-learning words), runs ANALYZE, prints the plans of the
day, trending and search queries (EXPLAIN ANALYZE: each must read its index,
never sort the catalogue), then drives gunicorn with wrk:

  daily    the latest day's page (/), as every visitor sees it: cached;
  search   forty different searches in turn, each rendered once then cached;
  daily, cache off / search, cache off   the same with SITE_CACHE_SECONDS=0:
           every request renders its page from PostgreSQL.

Targets (cached, as in production): daily p99 < 100 ms, search p99 < 200 ms,
0 errors. Errors on the cached pages make it exit 1; speed only prints. --smoke
is CI's few-second run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import time
from urllib.parse import urlencode

from common import ROOT, Web, host_now, machine, setup_django

WORDS = """
language model models reasoning transformer attention diffusion image video audio speech agent agents
planning reinforcement learning policy reward alignment preference safety robust robustness adversarial
graph neural network retrieval augmented generation benchmark evaluation dataset instruction tuning
multimodal vision encoder decoder token tokens context window long sparse mixture experts quantization
pruning distillation efficient inference decoding speculative chain thought verifier math proof theorem
code program synthesis repair bug software compiler optimization gradient descent convergence stochastic
bayesian uncertainty calibration causal inference counterfactual fairness bias privacy federated
differential protein molecule drug discovery physics simulation weather climate forecasting time series
anomaly detection segmentation depth estimation pose tracking 3d scene reconstruction rendering gaussian
splatting radiance field navigation robot manipulation grasping locomotion control embodied world
memory state space recurrent convolution kernel scaling law pretraining finetuning lora adapter prompt
hallucination factuality knowledge editing question answering summarization translation dialogue
""".split()
SEARCHES = [
    "language model",
    "diffusion",
    '"chain of thought"',
    "reasoning -math",
    "robot manipulation",
    "speculative decoding",
    "state space",
    "quantization or pruning",
    "protein",
    "benchmark evaluation",
    "retrieval augmented generation",
    "video diffusion",
    "federated privacy",
    "gaussian splatting",
    "mixture experts",
    "hallucination",
    "weather forecasting",
    "causal inference",
    "reward alignment",
    "graph neural network",
    "lora",
    "scaling law",
    "anomaly detection",
    "depth estimation",
    "compiler optimization",
    "question answering",
    "theorem proof",
    "speech",
    "tokens context window",
    "agent planning",
    "uncertainty calibration",
    "drug discovery",
    "code repair",
    "knowledge editing",
    "embodied navigation",
    "translation",
    "attention sparse",
    "physics simulation",
    "instruction tuning dataset",
    "multimodal encoder",
]
LUA = r"""
local paths = {}
local counter = 0
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  for i = 1, #args do paths[i] = args[i] end
end

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

done = function(summary, latency, requests)
  io.write(string.format("P50_US %d\nP99_US %d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("REQUESTS %d\nDURATION_US %d\n", summary.requests, summary.duration))
  io.write(string.format("ERRORS %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
"""
FIRST_DAY = dt.date(2026, 1, 5)


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Return words and their weights as text has them (Zipf): the ML words spread among 20,000 others."""
    letters = "bcdfghjklmnprstvwz"
    others = {"".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(3)) for _ in range(20_000)}
    words = [*WORDS, *sorted(others - set(WORDS))]
    rng.shuffle(words)
    return words, [1 / rank for rank in range(1, len(words) + 1)]


def seed(target: int) -> None:
    """Fill the catalogue up to ``target`` papers (a thousand a day), written with COPY."""
    from papers.db import copy_insert
    from papers.models import Paper

    have = Paper.objects.count()
    if have >= target:
        return
    words_of, weights = vocabulary(random.Random(0))
    rng = random.Random(have)
    batch: list[Paper] = []
    for n in range(have, target):
        day = FIRST_DAY + dt.timedelta(days=n // 1000)
        words = rng.choices(words_of, weights, k=9)
        batch.append(
            Paper(
                arxiv_id=f"{3000 + n // 100000}.{n % 100000:05d}",
                version=rng.randint(1, 3),
                title=" ".join(words[:7]).capitalize(),
                abstract=" ".join(rng.choices(words_of, weights, k=120)) + ".",
                author_names=[f"Author {rng.randint(1, 5000)}" for _ in range(rng.randint(1, 9))],
                primary_category="cs.LG",
                categories=rng.sample(["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML"], 2),
                announced_on=day,
                upvotes=rng.randint(1, 300) if rng.random() < 0.05 else None,
                ai_summary=" ".join(words) + "." if rng.random() < 0.05 else "",
                sources=["bench"],
            )
        )
        if len(batch) == 5000:
            copy_insert(Paper, batch)
            batch = []
    copy_insert(Paper, batch)


def plans() -> list[str]:
    """EXPLAIN ANALYZE of each list query on the seeded catalogue: the index it reads and its time."""
    from django.db import connection

    from papers import selectors
    from papers.models import Paper

    day = selectors.latest_day()
    queries = {
        "day page": Paper.objects.filter(hidden=False, announced_on=day).order_by(*selectors.DAY_ORDER)[:31],
        "weekly trending": Paper.objects.filter(
            hidden=False,
            upvotes__isnull=False,
            upvotes__gt=0,
            announced_on__range=(day - dt.timedelta(6), day),
        ).order_by("-upvotes", "-arxiv_id")[:50],
        "search": selectors._ranked_postgres(Paper.objects.filter(hidden=False), "speculative decoding")[:31],
        "search, common word": selectors._ranked_postgres(Paper.objects.filter(hidden=False), "model")[:31],
    }
    lines = []
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE papers_paper")
    for name, queryset in queries.items():
        plan = queryset.explain(analyze=True)
        indexes = sorted(set(re.findall(r"using (\w+)|on (\w+_idx)", plan, re.IGNORECASE)) - {("", "")})
        used = ", ".join(sorted({a or b for a, b in indexes})) or "no index"
        took = re.search(r"Execution Time: ([\d.]+) ms", plan)
        seq = "SEQUENTIAL SCAN" if "Seq Scan" in plan else "no sequential scan"
        lines.append(f"  {name:22} {used}; {seq}; {took.group(1) if took else '?'} ms")
    return lines


def run_wrk(web: Web, paths: list[str], connections: int, seconds: int) -> dict[str, int]:
    script = ROOT / "var" / "bench" / "site.lua"
    script.write_text(LUA)
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script)]
    result = subprocess.run([*command, web.base, "--", *paths], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    return {k: int(v) for k, v in re.findall(r"^([A-Z0-9_]+) (\d+)$", result.stdout, re.MULTILINE)}


def report(name: str, figures: dict[str, int], target_ms: float | None) -> str:
    rate = figures["REQUESTS"] / (figures["DURATION_US"] / 1e6)
    target = f"   (target p99 < {target_ms:.0f} ms)" if target_ms else ""
    return (
        f"{name:22} p50 {figures['P50_US'] / 1000:6.1f} ms, p99 {figures['P99_US'] / 1000:6.1f} ms, "
        f"{rate:6,.0f} requests/s, {figures['ERRORS']} errors{target}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--smoke", action="store_true", help="a few seconds each, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.papers, args.connections, args.duration = min(args.papers, 3000), 10, 3
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)")
        return 1
    setup_django()
    seed(args.papers)
    from papers import selectors, site_cache, vectors
    from papers.models import Paper

    # Search re-ranks by meaning when an embedding model is active, as in production after the first ingest.
    model = vectors.active_model()
    if model is None or model.papers < Paper.objects.count() // 2:
        started = time.perf_counter()
        model = vectors.embedding_refit()
        print(f"fitted the embedding ({model.dim} dimensions) in {time.perf_counter() - started:.0f} s")

    site_cache.bump()
    explained = plans()
    day = selectors.latest_day()
    searches = ["/search/?" + urlencode({"q": query}) for query in SEARCHES]
    host = host_now()
    results = []
    for cached in (True, False):
        os.environ["SITE_CACHE_SECONDS"] = "600" if cached else "0"
        site_cache.bump()  # each run starts with no page cached
        web = Web(workers=args.web_workers, port=18766, log=ROOT / "var" / "bench" / "site-gunicorn.log")
        try:
            suffix = "" if cached else ", cache off"
            run_wrk(web, ["/", *searches], args.connections, 2)  # unmeasured: each worker loads its templates
            daily = run_wrk(web, ["/"], args.connections, args.duration)
            results.append((f"daily{suffix}", daily, 100.0 if cached else None))
            found = run_wrk(web, searches, args.connections, args.duration)
            results.append((f"search{suffix}", found, 200.0 if cached else None))
        finally:
            web.close()
    os.environ.pop("SITE_CACHE_SECONDS", None)
    print(
        f"site load on {machine()}: {Paper.objects.count():,} papers in PostgreSQL (latest day {day}), "
        f"gunicorn x{args.web_workers} (sync, production settings), Redis cache; wrk {args.connections} "
        f"connections, {args.duration} s each; search re-ranked by embedding {model}"
    )
    print(host)
    print("query plans (EXPLAIN ANALYZE):")
    print("\n".join(explained))
    for name, figures, target in results:
        print(report(name, figures, target))
    # The cached runs are the service as deployed; the cache-off runs only show what the cache saves
    # (overloaded, wrk's 2 s timeout counts as errors there).
    errors = sum(figures["ERRORS"] for _name, figures, target in results if target)
    if errors:
        print(f"FAILED: {errors} requests to the cached pages failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
