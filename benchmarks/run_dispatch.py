"""Run beat's dispatcher once (every active subscriber due now) and print what it did as JSON.

Used by benchmarks/dispatch.py so the dispatcher's own peak memory and queries are measured apart.
"""

from __future__ import annotations

import json
import resource

from common import setup_django


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
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
