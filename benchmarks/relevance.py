"""Relevance of each reader's digest, measured on a labelled set through papermail's real paths.

    python benchmarks/relevance.py            # every reader, every leg
    python benchmarks/relevance.py --smoke    # two readers, every leg (CI): fails on errors, never on figures

Six simulated readers (benchmarks/relevance/readers.json) sign up on the
sign-up form with the preferences such a reader types, confirm from the link
in their confirmation email, and receive four daily digests of the labelled
set's four announcement days (benchmarks/relevance/README.md), sent by
``send_digests --now --sync`` after the day's ingest and the beat's nightly
embedding refit. On days 1-3 each reader reads the digest email
and presses "more like this" on papers it grades 2 and "less like this" on
papers it grades 0, through the email's own links (up to five a day); the
day-4 digest is scored: P@10 (papers graded 2) and nDCG@10 (gains 0/1/2, the
ideal from all day-4 papers). Each leg starts from an empty database of its own.

Legs: the rules alone; the learned ranking (when this build has
DIGEST_RANKING); an arxiv-sanity-lite-style baseline given exactly the likes
a leg's readers gave, ranking all day-4 papers; cold start (five seed papers
per reader, no clicks); and the ceiling the number of relevant papers allows.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import os
import random
import re
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common, relevance_set
from benchmarks.relevance_set import LabelledSet, Leg, Reader

SEED = 19
CLICKS_PER_DAY = (3, 5)  # a reader clicks between three and five times a day
SEEDS = 5
SMOKE_READERS = ("conformal", "video")
FEEDBACK_LINK = re.compile(r"https?://\S+?/digest/[^/\s]+/feedback/(\d+)/(more|less)/")
# What a day's digests gave each reader: its papers in order, and their feedback links by "<id>/more".
Received = dict[str, tuple[list[str], dict[str, str]]]


class HarnessError(Exception):
    """Something in papermail did not do what a reader needs: the run fails."""


def prepare_environment() -> None:
    """Mail stays in this process (the locmem backend); no provider, no rate limit on sign-ups."""
    os.environ.update(
        {
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ANYMAIL_PROVIDER": "",
            "EMAIL_PROVIDER": "",
            "EMAIL_URL": "",
            "RATE_LIMITS_ENABLED": "0",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    )


def learned_available() -> bool:
    from django.conf import settings

    return getattr(settings, "DIGEST_RANKING", None) is not None


def ranking(name: str | None) -> contextlib.AbstractContextManager[object]:
    """Switch DIGEST_RANKING for a leg (nothing to switch in a build without it)."""
    from django.test import override_settings

    return override_settings(DIGEST_RANKING=name) if name else contextlib.nullcontext()


# --- The leg: an empty catalogue, the days' feeds, readers ---------------------------------------------


def reset_world() -> None:
    """Empty every table of papermail's apps but the topics (each leg starts from nothing)."""
    from django.apps import apps
    from django.core import mail
    from django.db import connection

    from papers.models import Topic

    tables = [
        model._meta.db_table
        for label in ("papers", "subscribers", "newsletter")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model is not Topic
    ]
    with connection.cursor() as cursor:
        # Ids keep counting up across legs: a cache keyed by id never meets another leg's row.
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
    mail.outbox = []


@contextlib.contextmanager
def at(date: dt.date, hour: int, minute: int = 0) -> Iterator[None]:
    import time_machine

    with time_machine.travel(dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=dt.UTC)):
        yield


def ingest(labelled: LabelledSet, day: int, *, only: set[str] | None = None) -> int:
    """Store day ``day``'s papers: the written day's RSS, and the real papers dated to that day."""
    from papers import feeds
    from papers.feeds.entries import ParsedFeed
    from papers.models import FetchRun
    from papers.services import document_ingest, papers_store

    date = labelled.dates[day - 1]
    path = relevance_set.feed_path(date)
    run = document_ingest(data=path.read_bytes(), source=path.name)
    if run.status != FetchRun.Status.OK:
        raise HarnessError(f"{path.name} was not ingested: {run.error}")
    stored = run.new
    wanted: dict[str, set[str]] = {}
    for arxiv_id, name, paper_day in labelled.real:
        if paper_day == day and (only is None or arxiv_id in only):
            wanted.setdefault(name, set()).add(arxiv_id)
    for name, ids in sorted(wanted.items()):
        parsed = feeds.parse((relevance_set.SHARED_FEEDS / name).read_bytes())
        # The real papers come from other days: each is announced anew on the day the set gives it.
        entries = [
            dataclasses.replace(e, announced_on=date, hf_daily_on=date if e.hf_daily_on else None)
            for e in parsed.entries
            if e.arxiv_id in ids
        ]
        document = ParsedFeed(format=parsed.format, title=parsed.title, announced_on=date, entries=entries)
        stored += papers_store(parsed=document, source=parsed.format).new
    return stored


def nightly_refit(date: dt.date) -> None:
    """Run the beat's nightly refit of the embedding (05:40, after ingest, before the sends).

    Its signal retrains every reader under the new version, as in production.
    """
    from papers.tasks import refit_embedding

    with at(date, 5, 40):
        refit_embedding.delay()


def sign_up(client: object, reader: Reader) -> None:
    """Sign up on the form, then confirm from the link in the confirmation email."""
    from django.core import mail

    from newsletter.link_emails import link_emails_sweep
    from subscribers.models import Subscriber

    preferences = reader.preferences
    response = client.post(  # type: ignore[attr-defined]
        "/subscribe/",
        {
            "email": reader.email,
            "topics": preferences["topics"],
            "keywords": preferences["keywords"],
            "authors": preferences["authors"],
            "cadence": "daily",
            "timezone": "UTC",
            "send_hour": "7",
        },
    )
    if response.status_code != 302:
        raise HarnessError(f"sign-up of {reader.slug} answered {response.status_code}")
    link_emails_sweep()
    sent = [m for m in mail.outbox if reader.email in m.to]
    found = re.search(r"https?://\S+/confirm/\S+?/(?=\s|$)", sent[-1].body) if sent else None
    if found is None:
        raise HarnessError(f"no confirmation link was mailed to {reader.slug}")
    response = client.post(urlsplit(found.group(0)).path)  # type: ignore[attr-defined]
    if not Subscriber.objects.filter(email=reader.email, status=Subscriber.Status.ACTIVE).exists():
        raise HarnessError(f"{reader.slug} is not active after confirming ({response.status_code})")


def dispatch(date: dt.date, readers: tuple[Reader, ...]) -> Received:
    """Send the day's digests; return each reader's papers in order and their feedback links."""
    from django.core import mail
    from django.core.management import call_command

    from newsletter.models import DeliveryItem
    from papers.models import Paper

    mail.outbox = []
    with at(date, 7, 5):
        call_command("send_digests", now=True, sync=True, stdout=io.StringIO())
    received = {}
    for reader in readers:
        items = list(
            DeliveryItem.objects.filter(
                delivery__subscriber__email=reader.email, delivery__edition__date=date
            ).order_by("position")
        )
        arxiv_ids = dict(
            Paper.objects.filter(pk__in=[i.paper_id for i in items]).values_list("pk", "arxiv_id")
        )
        messages = [m for m in mail.outbox if reader.email in m.to]
        links = {}
        for message in messages:
            for found in FEEDBACK_LINK.finditer(message.body):
                links[f"{arxiv_ids.get(int(found.group(1)))}/{found.group(2)}"] = found.group(0)
        ranked = [arxiv_ids[item.paper_id] for item in items]
        if ranked and len(links) != 2 * len(ranked):
            raise HarnessError(f"{reader.slug}'s digest of {date} lacks feedback links for some papers")
        received[reader.slug] = (ranked, links)
    return received


def click(client: object, url: str) -> None:
    """Open a feedback link as the email does (GET), then press its one button (POST)."""
    path = urlsplit(url).path
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if response.status_code != 200:
            raise HarnessError(f"{method.upper()} {path} answered {response.status_code}")


def choose_clicks(
    rng: random.Random, ranked: list[str], grades: dict[str, dict[str, int]], slug: str
) -> list[tuple[str, str]]:
    """Return the (paper, more|less) presses of one reader on one digest, in digest order.

    A reader presses "more" on what it wants most and keeps one press for a
    paper it does not want, when the digest has one.
    """
    budget = rng.randint(*CLICKS_PER_DAY)
    likes = [(i, "more") for i in ranked if grades[i][slug] == 2]
    dislikes = [(i, "less") for i in ranked if grades[i][slug] == 0]
    if not dislikes:
        return likes[:budget]
    kept = likes[: budget - 1]
    return kept + dislikes[: budget - len(kept)]


def seed_papers(rng: random.Random, labelled: LabelledSet, slug: str) -> list[str]:
    """Return a reader's seed papers: five of those it grades 2 among days 1-3."""
    day_of = labelled.day_of
    pool = sorted(i for i, g in labelled.grades.items() if g[slug] == 2 and day_of[i] < 4)
    return rng.sample(pool, min(SEEDS, len(pool)))


def add_seeds(reader: Reader, arxiv_ids: list[str]) -> None:
    """Record seed papers as the seeds import does: a +1 per paper, marked as a seed where the build can."""
    from papers.models import Paper
    from subscribers.models import Feedback, Subscriber
    from subscribers.services import feedback_record

    marked = {"source": "seed"} if any(f.name == "source" for f in Feedback._meta.get_fields()) else {}
    subscriber = Subscriber.objects.get(email=reader.email)
    for paper in Paper.objects.filter(arxiv_id__in=arxiv_ids).order_by("arxiv_id"):
        feedback_record(subscriber=subscriber, paper=paper, value=Feedback.Value.MORE, **marked)


# --- Legs ------------------------------------------------------------------------------------------------


def run_leg(
    labelled: LabelledSet,
    readers: tuple[Reader, ...],
    *,
    name: str,
    rank: str | None,
    clicks: bool,
    seeds: bool,
) -> Leg:
    """Run one leg from an empty database and return what its readers got on day 4."""
    from django.test import Client

    started = time.perf_counter()
    leg = Leg(name=name)
    # The same presses and seeds whatever the ranking, so legs differ by their ranking alone.
    rng = random.Random(f"{SEED}:{clicks}:{seeds}")
    client = Client(SERVER_NAME="localhost")
    reset_world()
    with ranking(rank):
        if clicks:
            with at(labelled.dates[0], 4):  # before the day's papers arrive
                for reader in readers:
                    sign_up(client, reader)
        for day, date in enumerate(labelled.dates[:3], start=1):
            with at(date, 5):
                ingest(labelled, day)
            nightly_refit(date)
            if clicks:
                press(client, rng, labelled, leg, dispatch(date, readers), date)
        if not clicks:
            with at(labelled.dates[3], 4):
                for reader in readers:
                    sign_up(client, reader)
                    if seeds:
                        add_seeds(reader, seed_papers(rng, labelled, reader.slug))
        with at(labelled.dates[3], 5):
            ingest(labelled, 4)
        nightly_refit(labelled.dates[3])
        leg.day4 = {slug: ranked for slug, (ranked, _) in dispatch(labelled.dates[3], readers).items()}
    leg.seconds = time.perf_counter() - started
    if clicks:
        presses = [sum(len(v) for v in chosen.values()) for chosen in (leg.liked, leg.disliked)]
        leg.note = "{} more, {} less".format(*presses)
    elif seeds:
        leg.note = f"{SEEDS} seeds each"
    return leg


def press(
    client: object, rng: random.Random, labelled: LabelledSet, leg: Leg, received: Received, date: dt.date
) -> None:
    """Make each reader's presses on the day's digest, at noon, and note them on ``leg``."""
    with at(date, 12):
        for slug, (ranked, links) in received.items():
            for arxiv_id, direction in choose_clicks(rng, ranked, labelled.grades, slug):
                click(client, links[f"{arxiv_id}/{direction}"])
                chosen = leg.liked if direction == "more" else leg.disliked
                chosen.setdefault(slug, set()).add(arxiv_id)


def baseline_leg(labelled: LabelledSet, readers: tuple[Reader, ...], given: Leg) -> Leg:
    """Rank all day-4 papers per reader with the arxiv-sanity-lite SVM trained on ``given``'s likes."""
    from papers.models import Paper

    started = time.perf_counter()
    texts = {
        p.arxiv_id: " ".join([p.title, p.abstract, " ".join(p.author_names)])
        for p in Paper.objects.only("arxiv_id", "title", "abstract", "author_names")
    }
    day4 = [i for i in labelled.on_day(4) if i in texts]
    leg = Leg(name=f"baseline, {given.name} likes", liked=given.liked)
    for reader in readers:
        ranked = relevance_set.asl_ranking(texts, given.liked.get(reader.slug, set()), day4)
        leg.day4[reader.slug] = ranked[: relevance_set.K]
    leg.seconds = time.perf_counter() - started
    leg.note = f"trained on {sum(len(v) for v in given.liked.values())} likes"
    return leg


def legs(labelled: LabelledSet, readers: tuple[Reader, ...]) -> tuple[list[Leg], list[str]]:
    """Run every leg this build can run; return them in report order, with notes."""
    rankings = ["rules", "learned"] if learned_available() else [None]
    notes = (
        []
        if rankings[-1]
        else ["rules: today's build (no DIGEST_RANKING)", "learned: not available in this build"]
    )
    done = []
    for rank in rankings:
        name = rank or "rules"
        clicked = run_leg(labelled, readers, name=name, rank=rank, clicks=True, seeds=False)
        done += [clicked, baseline_leg(labelled, readers, clicked)]
        if rank != "learned":
            done.append(
                run_leg(labelled, readers, name=f"{name}, no clicks", rank=rank, clicks=False, seeds=False)
            )
        done.append(
            run_leg(labelled, readers, name=f"cold start, {name}", rank=rank, clicks=False, seeds=True)
        )
    return done, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="two readers, every leg (CI)")
    args = parser.parse_args(argv)
    labelled = relevance_set.load()
    wrong = relevance_set.problems(labelled)
    if wrong:
        print("the labelled set is broken:", *wrong[:20], sep="\n  ")
        return 1
    readers = tuple(r for r in labelled.readers if not args.smoke or r.slug in SMOKE_READERS)
    prepare_environment()
    common.setup_django()
    from django.core.management import call_command

    from newsletter.celery import app

    # Production settings serve hashed static files, and the pages the readers open name them.
    call_command("collectstatic", interactive=False, verbosity=0)

    # Tasks the services enqueue (after ingest, after feedback) run here, in order, as a worker would.
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    print(common.host_now())
    day4 = labelled.on_day(4)
    print(
        f"relevance: {len(labelled.grades)} papers, {len(readers)} readers, days "
        f"{labelled.dates[0]}..{labelled.dates[-1]}; day 4: {len(day4)} papers"
    )
    started = time.perf_counter()
    try:
        done, notes = legs(labelled, readers)
    except Exception:
        traceback.print_exc()
        return 1
    relevance_set.report(labelled, readers, done, notes)
    print(f"({time.perf_counter() - started:.0f} s; legs: {', '.join(f'{w.seconds:.0f} s' for w in done)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
