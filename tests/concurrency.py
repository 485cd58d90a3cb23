"""Run calls at the same instant in threads, as concurrent requests or workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(*calls: Callable[[], T]) -> list[T | BaseException]:
    """Run ``calls`` in threads released together; return each one's result or exception, in order.

    Each thread closes its database connections when it is done (a transactional
    test database must not be left with them open).
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[T | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except BaseException as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes  # type: ignore[return-value]
