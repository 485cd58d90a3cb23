"""What one sign-up or one site search costs in instructions, for the caches off the digest path.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/operation_cost.py signup --count 200
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/operation_cost.py search --count 200

Runs in the benchmark database as it is (benchmarks/dispatch.py's world, or
any catalogue). Each operation goes through the code a request runs, without
the HTTP layer: a sign-up through ``subscription_request`` (new addresses,
PostgreSQL's one-statement path), a search through ``search_papers`` for
queries drawn from the catalogue's own titles. A first round of ``--count``
operations warms the process; under valgrind counting is switched on for the
second round only (as in digest_cost.py), so "Collected" divided by
``--count`` is the instructions of one operation in a running process. The
sign-ups are rolled back at the end: the database is left as it was.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from common import machine, setup_django
from digest_cost import counting


class Rollback(Exception):
    """Raised to undo the measured sign-ups."""


def signups(count: int) -> Callable[[int], None]:
    from subscribers.preferences import Preferences
    from subscribers.services import RequestInfo, subscription_request

    request = RequestInfo(ip="192.0.2.1", user_agent="operation_cost")
    preferences = Preferences(topics=[], keywords=["causal inference"], authors=["Ann Lee"])
    run = f"{time.time_ns():x}"

    def one(n: int) -> None:
        subscription_request(email=f"cost-{run}-{n}@example.org", preferences=preferences, request=request)

    return one


def searches(count: int) -> Callable[[int], None]:
    from papers import selectors
    from papers.models import Paper

    titles = list(Paper.objects.order_by("?").values_list("title", flat=True)[: count * 2])
    words = [w for title in titles for w in title.split() if w.isalpha() and len(w) > 4]
    rng = random.Random(7)
    queries = [" ".join(rng.sample(words, 2)) if len(words) > 1 else "model" for _ in range(count * 2)]
    filters = selectors.SearchFilters()

    def one(n: int) -> None:
        list(selectors.search_papers(query=queries[n], filters=filters).papers)

    return one


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("operation", choices=("signup", "search"))
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    from django.db import transaction

    print(f"operation cost on {machine()}: {args.operation}, {args.count} warm-up then {args.count} counted")
    make = signups if args.operation == "signup" else searches
    try:
        with transaction.atomic():
            one = make(args.count)
            for n in range(args.count):
                one(n)
            counting(True)
            started = time.process_time()
            for n in range(args.count, 2 * args.count):
                one(n)
            spent = time.process_time() - started
            counting(False)
            raise Rollback
    except Rollback:
        pass
    print(f"{args.operation:8s}{spent / args.count * 1e6:8.0f} µs of CPU each (counted round)")


if __name__ == "__main__":
    main()
