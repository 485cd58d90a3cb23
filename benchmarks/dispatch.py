"""Dispatch benchmark: personalised digests for many subscribers through real workers and a real path.

    .venv/bin/python benchmarks/dispatch.py                      # 100,000 subscribers, both paths
    .venv/bin/python benchmarks/dispatch.py --subscribers 20000 --paths api --workers 1,2

Setup (not timed): PostgreSQL database papermail_bench, Redis database 13,
~500 papers announced yesterday, N confirmed subscribers with a realistic
spread of preferences (Zipf-distributed topics, 0-5 keywords from a
vocabulary, some followed authors, daily and weekly, many time zones), and
(--ratings, default 30) a month of older papers, each subscriber's ratings of
them and the learned model trained from those (benchmarks/readers.py).

Each run times the real path: beat's dispatcher (manage.py send_digests --now
logic, in its own process) creates the deliveries and queues chunks; real
Celery worker processes claim, plan, record and send them:

* api: django-anymail's Postmark backend with batch sending (each delivery its
  own message, up to 500 per call to /email/batch) against a local fake
  Postmark API (benchmarks/fake_provider.py); a sample of messages is checked
  for the right papers, why-lines and a working unsubscribe URL and header;
* smtp: Django's SMTP backend into Postfix's smtp-sink.

Printed per run: wall time, digests/s, peak RSS per process, database
queries (total, and per chunk by chunk size), distinct preference profiles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import psutil
import readers
from common import ROOT, bench_env, host_now, machine, postgres_cpu_seconds, setup_django

SAMPLES = ROOT / "var" / "bench" / "samples"
ZONES = [
    ("America/Los_Angeles", 8),
    ("America/New_York", 14),
    ("America/Chicago", 5),
    ("America/Sao_Paulo", 3),
    ("Europe/London", 10),
    ("Europe/Paris", 9),
    ("Europe/Berlin", 9),
    ("Europe/Zurich", 3),
    ("Europe/Madrid", 3),
    ("Asia/Shanghai", 12),
    ("Asia/Tokyo", 5),
    ("Asia/Seoul", 4),
    ("Asia/Kolkata", 6),
    ("Asia/Singapore", 3),
    ("Australia/Sydney", 2),
    ("Pacific/Auckland", 1),
    ("Africa/Lagos", 1),
    ("UTC", 2),
]
CATEGORIES = [
    ("cs.CL", 30),
    ("cs.LG", 25),
    ("cs.CV", 20),
    ("cs.AI", 10),
    ("stat.ML", 5),
    ("cs.RO", 4),
    ("cs.IR", 3),
    ("eess.AS", 3),
]
VOCABULARY = (
    "reasoning,language model,diffusion,retrieval,agent,reinforcement learning,robot,benchmark,alignment,"
    "multimodal,vision-language,transformer,mixture-of-experts,quantization,distillation,tokenizer,"
    "speech,video generation,3D,segmentation,graph neural network,federated,privacy,interpretability,"
    "jailbreak,code generation,mathematical,planning,world model,RLHF,preference optimization,scaling law,"
    "long context,KV cache,state space model,in-context learning,chain-of-thought,hallucination,"
    "evaluation,dataset,synthetic data,self-supervised,contrastive,uncertainty,calibration,causal,"
    "time series,recommendation,dense retrieval,reranking,embedding,sparse,pruning,efficient inference,"
    "medical,protein,molecule,weather,theorem proving,tool use"
).split(",")
NOUNS = "method,approach,framework,model,baseline,system,dataset,objective,estimator,pipeline,architecture,policy".split(
    ","
)
FILLER = [
    "We propose a new {a} {b} that improves over the strongest {c}.",
    "Our {b} relies on {a} and is simple to implement.",
    "Experiments on standard benchmarks show that the {b} outperforms each {c} by a wide margin.",
    "We analyse when {a} helps and when the {c} fails.",
    "Code and data for the {b} are released.",
]
FIRST = "Ada Alan Grace Yann Fei-Fei Yoshua Geoffrey Demis Ilya Andrej Percy Chelsea Pieter Sergey Jürgen José Zoë Łukasz Chen Wei Aisha Priya Kenji Nkechi".split()
LAST = "Lovelace Turing Hopper LeCun Li Bengio Hinton Hassabis Sutskever Karpathy Liang Finn Abbeel Levine Schmidhuber Ramírez Müller Nowak Wang Zhang Khan Raman Sato Okafor".split()


def zipf_choice(rng: random.Random, items: list, s: float = 1.1):  # type: ignore[no-untyped-def]
    weights = [1 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights)[0]


# Many more people write papers than appear on one day: a followed author is rarely in today's list.
AUTHOR_POOL = [f"{first} {last} {n}" for n in range(1200) for first, last in zip(FIRST, LAST, strict=False)]


def make_papers(count: int, rng: random.Random, *, days_ago: int = 1, first: int = 20000) -> None:
    import datetime as dt

    from papers.db import copy_insert
    from papers.models import Paper

    day = dt.date.today() - dt.timedelta(days=days_ago)
    authors = AUTHOR_POOL
    cats, weights = zip(*CATEGORIES, strict=True)
    rows = []
    for n in range(count):
        primary = rng.choices(cats, weights=weights)[0]
        categories = [primary, *rng.sample([c for c in cats if c != primary], rng.choice([0, 0, 1, 2]))]
        words = [zipf_choice(rng, VOCABULARY, 0.9) for _ in range(3)]
        title = f"{words[0].capitalize()} meets {words[1]}: a study of {words[2]} at scale ({n})"
        # Mostly plain prose; a paper mentions a few of the vocabulary's terms, as real abstracts do.
        terms = [zipf_choice(rng, VOCABULARY, 0.9) for _ in range(2)]
        abstract = " ".join(
            rng.choice(FILLER).format(a=terms[i % 2], b=rng.choice(NOUNS), c=rng.choice(NOUNS))
            if i < 2
            else rng.choice(FILLER).format(a=rng.choice(NOUNS), b=rng.choice(NOUNS), c=rng.choice(NOUNS))
            for i in range(6)
        )
        upvotes = int(200 / (rng.random() * 40 + 1)) if rng.random() < 0.3 else None
        rows.append(
            Paper(
                arxiv_id=f"2611.{first + n}",
                version=1,
                title=title,
                abstract=abstract,
                author_names=rng.sample(authors, rng.randint(2, 10)),
                primary_category=primary,
                categories=categories,
                announced_on=day,
                first_seen_at=dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC),
                upvotes=upvotes,
                sources=["arxiv-rss"],
                abs_url=f"https://arxiv.org/abs/2611.{first + n}",
                pdf_url=f"https://arxiv.org/pdf/2611.{first + n}",
                ai_summary=abstract[:200] if upvotes else "",
            )
        )
    copy_insert(Paper, rows)


def make_subscribers(count: int, rng: random.Random) -> int:
    """Create ``count`` active subscribers; return the number of distinct preference profiles."""
    from django.db import connection

    from papers.db import copy_insert
    from papers.models import Paper, Topic
    from subscribers.models import Subscriber

    topics = list(Topic.objects.order_by("position"))
    today = {a for names in Paper.objects.values_list("author_names", flat=True) for a in names}
    zones, zone_weights = zip(*ZONES, strict=True)
    rows, chosen, profiles = [], [], set()
    for n in range(count):
        picked = sorted({zipf_choice(rng, topics).pk for _ in range(rng.choice([1, 1, 2, 2, 3]))})
        keywords = sorted(
            {
                zipf_choice(rng, VOCABULARY)
                for _ in range(rng.choices(range(6), weights=[40, 25, 15, 10, 6, 4])[0])
            }
        )
        excluded = [zipf_choice(rng, VOCABULARY[::-1])] if rng.random() < 0.1 else []
        authors = rng.sample(AUTHOR_POOL, rng.randint(1, 3)) if rng.random() < 0.2 else []
        cadence = "weekly" if rng.random() < 0.15 else "daily"
        profiles.add((tuple(picked), tuple(keywords), tuple(excluded), tuple(authors), cadence))
        rows.append(
            Subscriber(
                email=f"reader{n:06d}@bench.example.org",
                status="active",
                keywords=keywords,
                excluded_keywords=excluded,
                authors=authors,
                cadence=cadence,
                timezone=rng.choices(zones, weights=zone_weights)[0],
                send_hour=rng.randint(5, 9),
                send_weekday=rng.randint(0, 6),
                max_papers=10,
            )
        )
        chosen.append(picked)
    followed_today = sum(1 for row in rows if any(a in today for a in row.authors))
    print(f"setup: {followed_today:,} subscribers follow an author with a paper today")
    copy_insert(Subscriber, rows)
    ids = list(Subscriber.objects.order_by("email").values_list("pk", flat=True))
    through = Subscriber.topics.through
    copy_insert(
        through,
        [
            through(subscriber_id=pk, topic_id=t)
            for pk, topic_ids in zip(ids, chosen, strict=True)
            for t in topic_ids
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(profiles)


def populate(subscribers: int, *, ratings: int) -> int:
    from django.db import connection

    from papers.models import Paper
    from subscribers.models import Subscriber

    rng = random.Random(20261125)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_deliveryitem, newsletter_delivery, newsletter_edition, newsletter_dispatchrun, "
            "newsletter_trackingevent, subscribers_subscriber_topics, subscribers_subscriberevent, "
            "subscribers_consentrecord, subscribers_feedback, subscribers_readermodel, subscribers_subscriber, "
            "papers_papervector, papers_embeddingmodel, papers_paper CASCADE"
        )
    make_papers(500, rng)
    if ratings:  # what readers rated in earlier digests: a month of older papers
        for days_ago in range(10, 40):
            make_papers(100, rng, days_ago=days_ago, first=30000 + 100 * days_ago)
    profiles = make_subscribers(subscribers, rng)
    if ratings:
        readers.give_every_reader_a_model(ratings=ratings, rng=rng)
    with connection.cursor() as cursor:
        # What setup wrote is flushed now, not by a checkpoint during the timed run.
        cursor.execute("CHECKPOINT")
    print(
        f"setup: {Paper.objects.count()} papers, {Subscriber.objects.count():,} subscribers, {profiles:,} distinct preference profiles"
    )
    return profiles


def reset_outbox() -> None:
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_deliveryitem, newsletter_delivery, newsletter_edition, newsletter_dispatchrun CASCADE"
        )
    redis.Redis.from_url(bench_env()["REDIS_URL"]).flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PeakRss(threading.Thread):
    """Samples the resident memory of named process trees every 0.2 s; keeps each process's peak.

    Also keeps the CPU seconds each tree used, and PostgreSQL's (every postgres process), so the
    report can say where the two cores went.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.stop = threading.Event()
        self._postgres_start = postgres_cpu_seconds()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, pid in list(self.roots.items()):
                try:
                    root = psutil.Process(pid)
                    procs = [(name, root)] + [
                        (f"{name} child {i + 1}", child) for i, child in enumerate(root.children())
                    ]
                    cpu = 0.0
                    for label, proc in procs:
                        self.peaks[label] = max(self.peaks[label], proc.memory_info().rss / 1024 / 1024)
                        times = proc.cpu_times()
                        cpu += times.user + times.system
                    self.cpu[name] = max(self.cpu[name], cpu)
                except psutil.Error:
                    pass
            time.sleep(0.2)
        self.cpu["PostgreSQL (all backends)"] = postgres_cpu_seconds() - self._postgres_start


def wait_ready(log: Path, process: subprocess.Popen, marker: bytes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process exited early:\n{log.read_text(errors='replace')[-3000:]}")
        if marker in log.read_bytes():
            return
        time.sleep(0.2)
    raise SystemExit(f"not ready after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def run_path(path: str, *, workers: int, chunk: int, subscribers: int) -> dict[str, object]:
    import redis

    from newsletter.models import Delivery

    reset_outbox()
    env = {
        **os.environ,
        **bench_env(),
        "DIGEST_CHUNK_SIZE": str(chunk),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}",
    }
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    sampler = PeakRss()
    if path == "api":
        for old in SAMPLES.glob("*.json") if SAMPLES.exists() else []:
            old.unlink()
        sink = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "fake_provider.py"),
                "--port",
                str(port),
                "--samples",
                str(SAMPLES),
                "--track",
            ],
            stdout=open(logs / "provider.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        wait_ready(logs / "provider.log", sink, b"fake provider on")
        env.update(
            {
                "ANYMAIL_PROVIDER": "postmark",
                "ANYMAIL_POSTMARK_SERVER_TOKEN": "bench-server-token",
                "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
                "WEBHOOK_SECRET": "bench:bench",
            }
        )
    else:
        sink_log = logs / "smtp-sink.log"
        sink = subprocess.Popen(
            ["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
            stdout=open(sink_log, "wb"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(0.5)
        env.update({"EMAIL_PROVIDER": "smtp", "EMAIL_URL": f"smtp://127.0.0.1:{port}"})
    sampler.roots["sink" if path == "smtp" else "fake provider"] = sink.pid

    worker_log = logs / f"worker-{path}.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "probe",
            "worker",
            "--loglevel=WARNING",
            "--queues=send,dispatch,default",
            f"--concurrency={workers}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--pool=prefork",
        ],
        cwd=ROOT / "benchmarks",
        env=env,
        stdout=open(worker_log, "wb"),
        stderr=subprocess.STDOUT,
    )
    # Celery prints "ready." at INFO; with WARNING we wait for the pool's children instead.
    deadline = time.monotonic() + 60
    while len(psutil.Process(worker.pid).children()) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    sampler.roots["worker"] = worker.pid
    sampler.start()

    started = time.perf_counter()
    dispatcher = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_dispatch.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    dispatched = json.loads(dispatcher.stdout.strip().splitlines()[-1])
    dispatched["seconds"] = time.perf_counter() - started  # its process's start included
    final = [Delivery.State.SENT, Delivery.State.FAILED, Delivery.State.SKIPPED, Delivery.State.SUPPRESSED]
    while True:
        done = Delivery.objects.filter(state__in=final).count()
        if done >= dispatched["created"]:
            break
        if worker.poll() is not None:
            raise SystemExit(f"worker died:\n{worker_log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.25)
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()

    states = dict(
        Delivery.objects.values_list("state")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .order_by()
    )
    stats = [
        json.loads(row)
        for row in redis.Redis.from_url(bench_env()["REDIS_URL"]).lrange("bench:queries", 0, -1)
    ]
    chunks = [s for s in stats if s["task"] == "newsletter.tasks.send_chunk"]
    provider_stats: dict[str, object] = {}
    if path == "api":
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
            provider_stats = json.loads(response.read())
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=60)
    sink.send_signal(signal.SIGTERM)
    sink.wait(timeout=10)
    if path == "smtp":
        counters = (
            (ROOT / "var" / "bench" / "smtp-sink.log").read_text(errors="replace").replace("\r", "\n").split()
        )
        provider_stats = {"sink_counter": counters[-1] if counters else "?"}
    return {
        "path": path,
        "workers": workers,
        "chunk": chunk,
        "wall": wall,
        "states": states,
        "dispatcher": dispatched,
        "chunks": chunks,
        "rss": dict(sampler.peaks),
        "cpu": dict(sampler.cpu),
        "provider": provider_stats,
        "sent": states.get("sent", 0),
    }


def check_api_samples(limit: int = 20) -> tuple[int, int]:
    """Check saved provider requests: each sampled recipient got their papers, why-lines and unsubscribe link."""
    from django.utils.html import escape

    from newsletter.models import Delivery
    from subscribers.selectors import subscriber_for
    from subscribers.tokens import Purpose

    checked = problems = 0
    for sample in sorted(SAMPLES.glob("postmark-*.json"))[:limit]:
        for message in json.loads(sample.read_text()):
            delivery = Delivery.objects.get(pk=int(message["Metadata"]["delivery_id"]))
            items = list(delivery.items.select_related("paper").order_by("position"))
            html, text = message["HtmlBody"], message["TextBody"]
            ok = delivery.subscriber.email in message["To"] and bool(items)
            ok &= all(escape(item.paper.title) in html and item.paper.title in text for item in items)
            ok &= all(escape(item.why) in html and item.why in text for item in items)
            headers = {h["Name"]: h["Value"] for h in message.get("Headers", [])}
            header = headers.get("List-Unsubscribe", "")
            token = header.strip("<>").rstrip("/").rsplit("/", 1)[-1]
            ok &= (
                header.startswith("<https://papers.example.org/unsubscribe/")
                and headers.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
                and header.strip("<>") in text
            )
            ok &= subscriber_for(Purpose.UNSUBSCRIBE, token) == delivery.subscriber
            checked += 1
            problems += 0 if ok else 1
    return checked, problems


def report(run: dict[str, object], profiles: int) -> None:
    chunks = run["chunks"]
    sent = run["sent"]
    rate = sent / run["wall"]
    total_queries = sum(c["queries"] for c in chunks) + run["dispatcher"]["queries"]
    by_size: dict[int, list[int]] = defaultdict(list)
    for c in chunks:
        by_size[c["size"]].append(c["queries"])
    print(f"\n== {run['path']} path, {run['workers']} worker process(es), chunks of {run['chunk']}")
    print(f"wall time            {run['wall']:.1f} s")
    print(f"digests sent         {sent:,}  ({rate:,.0f} digests/s)   states: {run['states']}")
    print(
        f"dispatcher           {run['dispatcher']['created']:,} deliveries, {run['dispatcher']['chunks']} chunks, {run['dispatcher']['queries']} queries, {run['dispatcher']['seconds']:.1f} s, peak RSS {run['dispatcher']['peak_rss_mb']:.0f} MB"
    )
    for name, peak in sorted(run["rss"].items()):
        print(f"peak RSS             {name:<22}{peak:6.0f} MB")
    print(
        "CPU seconds          " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in run["cpu"].items())
    )
    print(f"DB queries           {total_queries:,} in all; per chunk by chunk size:")
    for size in sorted(by_size):
        values = by_size[size]
        print(
            f"                     {size:>5} deliveries: {min(values)}-{max(values)} queries (mean {sum(values) / len(values):.1f}, {len(values)} chunks)"
        )
    print(f"preference profiles  {profiles:,} distinct")
    print(f"provider             {run['provider']}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--paths", default="api,smtp")
    parser.add_argument(
        "--workers", default="2", help="Comma-separated worker process counts, e.g. 1,2 for the speed-up."
    )
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument(
        "--ratings", type=int, default=30, help="Simulated ratings per subscriber (0: no learned models)."
    )
    args = parser.parse_args()
    setup_django()
    print(f"dispatch benchmark on {machine()}")
    print(host_now())
    profiles = populate(args.subscribers, ratings=args.ratings)
    if args.ratings:
        readers.report_costs()
    results = []
    problems_seen = 0
    for path in args.paths.split(","):
        for workers in [int(w) for w in args.workers.split(",")]:
            run = run_path(path, workers=workers, chunk=args.chunk, subscribers=args.subscribers)
            report(run, profiles)
            results.append(run)
            if path == "api":
                checked, problems = check_api_samples()
                problems_seen += problems
                print(f"personalisation      {checked} sampled recipients checked, {problems} wrong")
                duplicates = run["provider"].get("duplicates", 0)
                print(
                    f"exactly once         {run['provider'].get('distinct', 0):,} distinct recipients at the provider, {duplicates} received twice"
                )
    failures = []
    for run in results:
        unsent = {state: n for state, n in run["states"].items() if state not in ("sent", "skipped")}
        if unsent:
            failures.append(f"{run['path']} path: deliveries not sent: {unsent}")
        if run["path"] == "api" and run["provider"].get("duplicates", 0):
            failures.append(f"api path: {run['provider']['duplicates']} recipients received a digest twice")
    if problems_seen:
        failures.append(
            f"{problems_seen} sampled digests had the wrong papers, why-lines or unsubscribe link"
        )
    api = [r for r in results if r["path"] == "api"]
    if len(api) > 1:
        base = min(api, key=lambda r: r["workers"])
        for r in api:
            print(
                f"speed-up api         {r['workers']} worker(s): {r['sent'] / r['wall']:,.0f}/s = {(r['sent'] / r['wall']) / (base['sent'] / base['wall']):.2f}x of {base['workers']}"
            )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
