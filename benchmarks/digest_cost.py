"""What building each digest costs a send worker, in one process: no broker, no provider, no sink.

    .venv/bin/python benchmarks/digest_cost.py                 # 20,000 digests, µs per digest by phase

The machines are shared and their speed moves by a factor of two from one
half hour to the next, so compare two versions of the code by instructions,
which do not move (valgrind counts them; one run for each version):

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/digest_cost.py --digests 2500 --keep

Under valgrind the script switches counting on (callgrind_control) after the
first chunk, which fills the worker's caches, and off after the last: the
"Collected" total divided by the digests after the first chunk (2,000 here)
is the instructions a send worker spends per digest. The setup, which would
dominate the run, goes at valgrind's uncounted speed.

Creates the dispatch benchmark's world (benchmarks/dispatch.py: 500 papers,
Zipf-distributed preferences, and with --ratings, 30 by default, each
subscriber's ratings and learned model; --ratings 0 for none) unless --keep
finds it in place, creates the
deliveries as the dispatcher does (nothing queued), and then, chunk by chunk,
times what a worker does before the provider call: reading the chunk,
planning, rendering, personalising, and writing the Postmark batch request
(newsletter/mail_backends.py). The
garbage collector runs with the thresholds a worker sets (GC_THRESHOLDS), and
its time is printed apart. Claiming, recording and sending are left out: they
are the database's and the provider's, measured by dispatch.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import time

from common import host_now, machine, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--digests", type=int, default=20_000, help="How many of them to build.")
    parser.add_argument(
        "--ratings", type=int, default=30, help="Simulated ratings per subscriber (0: no learned models)."
    )
    parser.add_argument("--keep", action="store_true", help="Reuse the world in place when it has enough.")
    args = parser.parse_args()
    os.environ.update(
        {
            "ANYMAIL_PROVIDER": "postmark",
            "ANYMAIL_POSTMARK_SERVER_TOKEN": "digest-cost",
            "ANYMAIL_POSTMARK_API_URL": "http://127.0.0.1:9/",  # never called
        }
    )
    setup_django()
    from dispatch import populate
    from django.conf import settings
    from django.core.mail import get_connection
    from django.db import connection

    from newsletter import dispatch, emails, mail_backends, planning
    from newsletter.models import Delivery
    from subscribers.models import ReaderModel, Subscriber

    print(f"digest cost on {machine()}")
    print(host_now())
    # The world is kept only if it has enough subscribers, with learned models or without as asked.
    fits = Subscriber.objects.count() >= args.digests and ReaderModel.objects.exists() == bool(args.ratings)
    if not (args.keep and fits):
        populate(max(args.subscribers, args.digests), ratings=args.ratings)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_deliveryitem, newsletter_delivery, newsletter_dispatchrun CASCADE"
        )
    dispatch.digests_dispatch(everyone=True)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True)[: args.digests])
    Delivery.objects.filter(pk__in=ids).update(state=Delivery.State.SENDING)

    # As a worker sets them (newsletter/collector.py); code from before GC_THRESHOLDS keeps CPython's.
    gc.set_threshold(*getattr(settings, "GC_THRESHOLDS", gc.get_threshold()))
    collecting = {"seconds": 0.0, "started": 0.0}

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["started"] = time.perf_counter()
        else:
            collecting["seconds"] += time.perf_counter() - collecting["started"]

    gc.callbacks.append(clock)
    backend = get_connection()
    spent = dict.fromkeys(("read", "plan", "render", "personalise", "provider JSON"), 0.0)
    built = 0
    size = 500
    for start in range(0, len(ids), size):
        if start == size:
            counting(True)
        moments = [time.process_time()]
        deliveries = planning.deliveries_for_chunk(ids[start : start + size])
        moments.append(time.process_time())
        plan = planning.chunk_plan(deliveries=deliveries)
        moments.append(time.process_time())
        digests = emails.chunk_digests(plan)
        moments.append(time.process_time())
        messages = [digest.message() for digest in digests]
        moments.append(time.process_time())
        fields = [mail_backends.digest_fields(m, stream=backend.message_stream) for m in messages]
        mail_backends._Batch([], data=fields).get_request_params(backend.api_url)
        moments.append(time.process_time())
        built += len(digests)
        for phase, before, after in zip(spent, moments, moments[1:], strict=False):
            spent[phase] += after - before
    counting(False)
    gc.callbacks.remove(clock)
    total = sum(spent.values())
    print(f"digests built        {built:,} (GC_THRESHOLDS {gc.get_threshold()})")
    for phase, seconds in spent.items():
        print(f"  {phase:19s}{seconds / built * 1e6:6.0f} µs a digest")
    print(f"  {'all':19s}{total / built * 1e6:6.0f} µs a digest")
    print(f"garbage collector    {collecting['seconds'] / built * 1e6:6.0f} µs a digest of those")


def counting(on: bool) -> None:
    """Switch callgrind's counting on or off when this process runs under it (see the docstring)."""
    if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
        switch = f"--instr={'on' if on else 'off'}"
        subprocess.run(["callgrind_control", switch, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
