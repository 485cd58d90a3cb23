"""Run beat's dispatcher once (every active subscriber due now) and print what it did as JSON.

Used by benchmarks/dispatch.py so the dispatcher's own peak memory and queries are measured apart.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import setup_django


def own_peak_rss_mb() -> float:
    """Return this process's peak resident memory (VmHWM: unlike ru_maxrss, it does not start from the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    setup_django(migrate=False)
    from django.db import connection

    from newsletter import dispatch
    from newsletter.tasks import send_chunk

    queries = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = dispatch.digests_dispatch(everyone=True, enqueue=send_chunk.delay)
    print(
        json.dumps(
            {
                "due": result.due,
                "created": result.created,
                "enqueued": result.enqueued,
                "chunks": len(result.chunks),
                "queries": queries,
                "peak_rss_mb": own_peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
