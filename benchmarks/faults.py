"""Fault trials: break things on purpose while digests go out, then count what each subscriber got.

    .venv/bin/python benchmarks/faults.py --trials 20      # make faults
    .venv/bin/python benchmarks/faults.py --trials 1       # the CI smoke run

Real processes and servers throughout: Celery worker processes, Redis,
PostgreSQL, the fake Mailgun API (benchmarks/fake_provider.py) counting what
each recipient receives, and a local feed server. Every digest trial ends by
comparing the deliveries due with what reached the provider: delivered,
duplicates (a recipient who got two), missing (due but never received).

Faults: a worker SIGKILLed mid-chunk; duplicate scheduling (the dispatcher
twice, two dispatchers at once, every task delivered twice); provider 5xx,
429 with Retry-After, connection resets and permanent 4xx; Redis restarted
during dispatch; PostgreSQL backends terminated during sending; sign-ups
through gunicorn across a PostgreSQL restart; sign-ups while Redis (broker and
cache) is down; feed-server faults (truncated XML, wrong content type, oversize
body, trickling server, redirect loop, HTML error page), each next to a good
feed.

It restarts the local Redis and PostgreSQL: run it when nothing else uses them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

import psutil
from common import ROOT, Web, bench_env, setup_django

SUBSCRIBERS = 120
SERVICES_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@dataclass
class Outcome:
    kind: str
    trials: int = 0
    due: int = 0
    delivered: int = 0
    duplicates: int = 0
    missing: int = 0
    errors: list[str] = field(default_factory=list)


class Rig:
    """A fake provider and Celery workers on the benchmark database, for one trial."""

    def __init__(self, *, fail_rate: float = 0.0, faults: str = "503", reject: str = "") -> None:
        import dispatch

        self.port = dispatch.free_port()
        self.logs = ROOT / "var" / "bench" / "faults"
        self.logs.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            str(ROOT / "benchmarks" / "fake_provider.py"),
            "--port",
            str(self.port),
            "--track",
        ]
        args += ["--fail-rate", str(fail_rate), "--faults", faults, "--reject", reject]
        self.provider = subprocess.Popen(
            args, stdout=open(self.logs / "provider.log", "wb"), stderr=subprocess.STDOUT
        )
        dispatch.wait_ready(self.logs / "provider.log", self.provider, b"fake provider on")
        self.env = {
            **os.environ,
            **bench_env(),
            "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}",
            "ANYMAIL_PROVIDER": "mailgun",
            "ANYMAIL_MAILGUN_API_KEY": "key-faults",
            "ANYMAIL_MAILGUN_API_URL": f"http://127.0.0.1:{self.port}/v3",
            "ANYMAIL_MAILGUN_SENDER_DOMAIN": "papers.example.org",
            "ANYMAIL_REQUESTS_TIMEOUT": "3",
            "WEBHOOK_SECRET": "faults:faults",
            "DIGEST_CHUNK_SIZE": "10",
            "DIGEST_BATCH_SIZE": "1",  # one message per digest: more calls, more chances to fail
            "DIGEST_LEASE_SECONDS": "6",
            "DIGEST_REQUEUE_SECONDS": "4",
            "DIGEST_RETRY_BACKOFF": "0.5",
            "DIGEST_MAX_ATTEMPTS": "30",
            "CELERY_VISIBILITY_TIMEOUT": "20",
            "CELERY_TASK_TIME_LIMIT": "15",
            "CELERY_TASK_SOFT_TIME_LIMIT": "12",
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "newsletter",
                "worker",
                "--loglevel=WARNING",
                "--queues=send,dispatch,default",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.logs / "worker.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while len(psutil.Process(worker.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.workers.append(worker)
        return worker

    def dispatch(self) -> dict[str, int]:
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run_dispatch.py")],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def settle(self, *, timeout: float = 120) -> None:
        """Run the dispatcher (lease recovery, re-queueing) until every delivery is final."""
        from newsletter.models import Delivery

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not Delivery.objects.filter(
                state__in=[Delivery.State.PENDING, Delivery.State.SENDING]
            ).exists():
                return
            time.sleep(2)
            self.dispatch()
        raise RuntimeError("deliveries did not settle in time")

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as response:
            return json.loads(response.read())

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        self.provider.terminate()
        self.provider.wait(timeout=10)


def fresh_world(rng: random.Random) -> None:
    import dispatch
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_deliveryitem, newsletter_delivery, newsletter_edition, newsletter_dispatchrun, "
            "subscribers_subscriber_topics, subscribers_subscriberevent, subscribers_consentrecord, "
            "subscribers_feedback, subscribers_subscriber, papers_paper CASCADE"
        )
    redis.Redis.from_url(bench_env()["REDIS_URL"]).flushdb()
    dispatch.make_papers(60, rng)
    dispatch.make_subscribers(SUBSCRIBERS, rng)


def count(outcome: Outcome, rig: Rig, *, expect_failed: set[str] = frozenset()) -> None:
    """Compare the deliveries due with what the provider received."""
    from newsletter.models import Delivery

    due = Delivery.objects.exclude(state=Delivery.State.SKIPPED).exclude(subscriber__email__in=expect_failed)
    stats = rig.stats()
    outcome.trials += 1
    outcome.due += due.count()
    outcome.delivered += stats["distinct"]
    outcome.duplicates += stats["duplicates"]
    sent = set(Delivery.objects.filter(state=Delivery.State.SENT).values_list("subscriber__email", flat=True))
    outcome.missing += due.count() - len(sent & set(due.values_list("subscriber__email", flat=True)))


def trial_worker_killed(rng: random.Random, outcome: Outcome) -> None:
    fresh_world(rng)
    rig = Rig()
    try:
        worker = rig.start_worker()
        rig.dispatch()
        time.sleep(rng.uniform(0.3, 2.5))
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, mid-chunk
        worker.wait()
        rig.start_worker()
        rig.settle()
        count(outcome, rig)
    finally:
        rig.close()


def trial_duplicate_scheduling(rng: random.Random, outcome: Outcome) -> None:
    from newsletter.tasks import send_chunk

    fresh_world(rng)
    rig = Rig()
    try:
        # Two dispatchers at the same instant, then one more run, before any worker starts.
        first = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "run_dispatch.py")],
            env=rig.env,
            stdout=subprocess.PIPE,
        )
        second = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "run_dispatch.py")],
            env=rig.env,
            stdout=subprocess.PIPE,
        )
        first.wait()
        second.wait()
        rig.dispatch()
        # ...and every queued task message delivered twice.
        from newsletter.celery import app
        from newsletter.models import Delivery

        ids = list(Delivery.objects.values_list("pk", flat=True))
        with app.connection_for_write(rig.env["REDIS_URL"]) as conn:
            for start in range(0, len(ids), 10):
                for _ in range(2):
                    send_chunk.apply_async((ids[start : start + 10],), connection=conn, queue="send")
        rig.start_worker()
        rig.settle()
        count(outcome, rig)
    finally:
        rig.close()


def trial_provider_failures(rng: random.Random, outcome: Outcome) -> None:
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from newsletter.models import Delivery
    from subscribers.models import Subscriber

    fresh_world(rng)
    # Three addresses the provider refuses for good (400): failed once each, never retried.
    refused = list(Subscriber.objects.order_by("?").values_list("pk", flat=True)[:3])
    Subscriber.objects.filter(pk__in=refused).update(email=Concat(Value("reject-"), F("email")))
    rejected = set(Subscriber.objects.filter(pk__in=refused).values_list("email", flat=True))
    rig = Rig(fail_rate=rng.uniform(0.2, 0.5), faults="503,429,reset,timeout", reject="reject-")
    try:
        rig.start_worker()
        rig.dispatch()
        rig.settle(timeout=240)
        count(outcome, rig, expect_failed=rejected)
        failed = set(
            Delivery.objects.filter(state=Delivery.State.FAILED).values_list("subscriber__email", flat=True)
        )
        storm = rig.stats()["rejected_requests"]
        if failed != rejected or storm != len(rejected):
            outcome.errors.append(
                f"trial failed: {len(failed)} failed, {storm} refused requests for {len(rejected)} refused addresses"
            )
        else:
            outcome.errors.append(f"{len(rejected)} refused addresses failed once each")
    finally:
        rig.close()


def _redis_up() -> bool:
    ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, check=False)
    return ping.returncode == 0


def _redis(command: str) -> None:
    """Stop the local Redis (it keeps nothing), or start it if it is down and wait for it."""
    if command == "stop":
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, check=False
        )
        return
    if _redis_up():
        return
    subprocess.run(SERVICES_REDIS, shell=True, check=True)  # noqa: S602 - the command from docs/services.md
    for _ in range(50):
        if _redis_up():
            return
        time.sleep(0.1)


def trial_redis_restart(rng: random.Random, outcome: Outcome) -> None:
    fresh_world(rng)
    rig = Rig()
    try:
        rig.start_worker()
        rig.dispatch()
        time.sleep(rng.uniform(0.2, 1.5))
        _redis("stop")
        time.sleep(rng.uniform(0.5, 2.0))
        _redis("start")
        rig.settle(timeout=180)
        count(outcome, rig)
    finally:
        rig.close()


def trial_signup_redis_down(rng: random.Random, outcome: Outcome) -> None:
    """Sign-ups while Redis is down are answered and kept; beat's sweep sends their confirmations after."""
    from django.test import Client

    from newsletter.tasks import send_owed_link_emails
    from subscribers.models import LinkEmail

    fresh_world(rng)
    rig = Rig()
    try:
        _redis("stop")
        browser = Client(HTTP_HOST="127.0.0.1")
        wanted = [f"outage-{n}@example.org" for n in range(rng.randint(8, 16))]
        for address in wanted:
            form = {"email": address, "keywords": "reasoning", "cadence": "daily", "timezone": "UTC"}
            response = browser.post("/subscribe/", {**form, "send_hour": "7"})
            if response.status_code != 302:  # the person was told it failed: counted as missing
                outcome.errors.append(f"sign-up answered {response.status_code} while Redis was down")
                outcome.missing += 1
        _redis("start")
        rig.start_worker()
        send_owed_link_emails.delay()  # beat's sweep (every two seconds), run by the worker
        deadline = time.monotonic() + 60
        while LinkEmail.objects.filter(state=LinkEmail.State.OWED).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        stats = rig.stats()
        outcome.trials += 1
        outcome.due += len(wanted)
        outcome.delivered += stats["distinct"]
        outcome.duplicates += stats["duplicates"]
        sent = set(
            LinkEmail.objects.filter(state=LinkEmail.State.SENT).values_list("subscriber__email", flat=True)
        )
        outcome.missing += len(set(wanted) - sent)
    finally:
        _redis("start")
        rig.close()


def trial_postgres_dropped(rng: random.Random, outcome: Outcome) -> None:
    from django.db import connection

    fresh_world(rng)
    rig = Rig()
    try:
        rig.start_worker()
        rig.dispatch()
        for _ in range(rng.randint(1, 3)):
            time.sleep(rng.uniform(0.2, 1.0))
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        rig.settle(timeout=180)
        count(outcome, rig)
    finally:
        rig.close()


def _postgres_up() -> bool:
    ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True, check=False)
    return ready.returncode == 0


def _postgres(command: str) -> None:
    """Stop the local PostgreSQL (fast shutdown), or start it if it is down and wait for it."""
    if command == "start" and _postgres_up():
        return
    version = sorted(os.listdir("/etc/postgresql"))[-1]  # the command from docs/services.md
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", command],
        check=True,
        capture_output=True,
    )
    for _ in range(300):
        if (command == "start") == _postgres_up():
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not {command}")


def trial_postgres_restarted_under_signups(rng: random.Random, outcome: Outcome) -> None:
    """Sign-ups through gunicorn across a PostgreSQL restart.

    While it is down a sign-up is refused with an error page; once it is back
    the very next sign-ups succeed (each worker's kept connection is found dead
    and replaced before use); every accepted sign-up is stored, with its
    consent record and its owed confirmation.
    """
    import dispatch
    from django.db import connection

    from subscribers.models import ConsentRecord, LinkEmail, Subscriber

    Subscriber.objects.filter(email__startswith="restart-").delete()
    web = Web(workers=2, port=dispatch.free_port(), log=ROOT / "var" / "bench" / "faults" / "gunicorn.log")
    accepted: list[str] = []
    counter = iter(range(1000))

    def sign_up(phase: str) -> int:
        address = f"restart-{phase}-{next(counter)}@example.org"
        status = web.sign_up(address)
        if status == 302:
            accepted.append(address)
        return status

    try:
        for _ in range(rng.randint(5, 10)):
            if (status := sign_up("before")) != 302:
                outcome.errors.append(f"sign-up answered {status} before the restart")
                outcome.missing += 1
        connection.close()
        _postgres("stop")
        while_down = [sign_up("down") for _ in range(rng.randint(2, 4))]
        outcome.errors.append(f"while PostgreSQL was down, sign-ups answered {sorted(set(while_down))}")
        _postgres("start")
        for _ in range(rng.randint(5, 10)):
            if (status := sign_up("after")) != 302:  # the person was told it failed: counted as missing
                outcome.errors.append(f"sign-up answered {status} after PostgreSQL was back")
                outcome.missing += 1
    finally:
        _postgres("start")
        web.close()
    stored = set(Subscriber.objects.filter(email__in=accepted).values_list("email", flat=True))
    stored &= set(
        ConsentRecord.objects.filter(subscriber__email__in=accepted).values_list(
            "subscriber__email", flat=True
        )
    )
    stored &= set(
        LinkEmail.objects.filter(
            subscriber__email__in=accepted, kind=LinkEmail.Kind.CONFIRMATION
        ).values_list("subscriber__email", flat=True)
    )
    outcome.trials += 1
    outcome.due += len(accepted)
    outcome.delivered += len(stored)
    outcome.missing += len(set(accepted) - stored)


def trial_feed_faults(rng: random.Random, outcome: Outcome) -> None:
    """Each bad feed ends as a clear error on its own run; the good feed next to it is stored."""
    from papers import services
    from papers.models import Feed, FetchRun
    from tests.httpserver import FeedServer, Reply

    good = (ROOT / "papers" / "demo" / "arxiv_cs.CL_2026-11-24.xml").read_bytes()
    faults = {
        "truncated": (Reply(body=good[: len(good) // 3]), "malformed XML"),
        "content type": (
            Reply(body=b"\x89PNG\r\n", headers={"Content-Type": "image/png"}),
            "expected a feed",
        ),
        "oversize": (Reply(body=good * 40), "too large"),
        "trickle": (Reply(body=good, trickle=0.05), "too slow"),
        "redirect loop": (Reply(status=302, headers={"Location": "/loop"}), "redirect"),
        "html page": (
            Reply(
                body=b"<!DOCTYPE html><html><body>Oops</body></html>", headers={"Content-Type": "text/html"}
            ),
            "HTML page",
        ),
    }
    from django.conf import settings

    settings.FEED_MAX_BYTES, settings.FEED_TOTAL_TIMEOUT, settings.FEED_RETRIES = 200_000, 2.0, 1
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = True  # the feed server listens on 127.0.0.1
    Feed.objects.all().delete()
    server = FeedServer()
    server.start()
    try:
        name = rng.choice(sorted(faults))
        reply, expected = faults[name]
        path = "/loop" if name == "redirect loop" else "/bad"
        bad = Feed.objects.create(slug="bad", name="bad", kind="arxiv-rss", url=server.script(path, reply))
        fine = Feed.objects.create(
            slug="good", name="good", kind="arxiv-rss", url=server.script("/good", Reply(body=good))
        )
        runs = {feed.slug: services.feed_fetch(feed=feed) for feed in (bad, fine)}
        outcome.trials += 1
        outcome.due += 1
        ok = (
            runs["bad"].status == FetchRun.Status.ERROR
            and expected in runs["bad"].error
            and runs["good"].status == FetchRun.Status.OK
        )
        outcome.delivered += 1 if ok else 0
        outcome.missing += 0 if ok else 1
        outcome.errors.append(f"{name}: {runs['bad'].error[:60]}")
    finally:
        server.stop()


TRIALS = {
    "worker killed mid-chunk": trial_worker_killed,
    "duplicate scheduling": trial_duplicate_scheduling,
    "provider 5xx/429/reset": trial_provider_failures,
    "Redis restarted": trial_redis_restart,
    "PostgreSQL backends dropped": trial_postgres_dropped,
    "PostgreSQL restarted, sign-ups": trial_postgres_restarted_under_signups,
    "sign-ups with Redis down": trial_signup_redis_down,
    "feed-server faults": trial_feed_faults,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--only", help="Run only the fault kinds containing this text.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    setup_django()
    rng = random.Random(args.seed)
    outcomes = []
    for kind, trial in TRIALS.items():
        if args.only and args.only not in kind:
            continue
        outcome = Outcome(kind)
        for _ in range(args.trials):
            try:
                trial(rng, outcome)
            except Exception as error:  # a trial that breaks is a finding, reported in the table
                outcome.errors.append(f"trial failed: {type(error).__name__}: {error}"[:200])
                outcome.trials += 1
        outcomes.append(outcome)
        print(f"{kind}: done", flush=True)

    print(f"\n{'fault':<30}{'trials':>7}{'due':>7}{'delivered':>10}{'dupes':>7}{'missing':>8}  errors seen")
    for o in outcomes:
        seen = "; ".join(sorted(set(o.errors))[:3]) if o.errors else "-"
        print(f"{o.kind:<30}{o.trials:>7}{o.due:>7}{o.delivered:>10}{o.duplicates:>7}{o.missing:>8}  {seen}")
    # A worker killed after the provider took a message but before the outbox recorded it sends that
    # digest again: the documented at-least-once window. Reported above; anything else fails the run.
    failed = any(
        o.missing
        or (o.duplicates and o.kind not in AT_LEAST_ONCE_WINDOW)
        or any(e.startswith("trial failed") for e in o.errors)
        for o in outcomes
    )
    return 1 if failed else 0


AT_LEAST_ONCE_WINDOW = {"worker killed mid-chunk"}


if __name__ == "__main__":
    sys.exit(main())
