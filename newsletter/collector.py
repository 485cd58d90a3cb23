"""The cyclic garbage collector in papermail's long-lived processes: web workers and Celery workers."""

from __future__ import annotations

import gc

from django.conf import settings


def tune() -> None:
    """Run the collector's passes after settings.GC_THRESHOLDS allocations, not CPython's 700.

    Building digests allocates millions of small containers, and with CPython's
    thresholds a sending worker spends much of its time in the collector.
    Reference counting still frees at once everything that is not in a cycle;
    only cycles wait longer to be freed.
    """
    gc.set_threshold(*settings.GC_THRESHOLDS)
