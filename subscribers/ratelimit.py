"""Fixed-window rate limits kept in Django's cache (local memory, or Redis when configured).

When the cache cannot be reached the limits fail open, with a warning: a Redis
outage must not turn every sign-up away. The confirmation email still waits
in the database for the queue (see LinkEmail).
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    """Return (count, seconds) from ``"5/m"``, ``"20/h"`` or ``"100/d"``."""
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit.strip().lower()[:1]]
    return int(count), seconds


def hit(scope: str, key: str, rate: str) -> bool:
    """Count one attempt for ``key`` in ``scope``; return True while it is within ``rate``."""
    if not settings.RATE_LIMITS_ENABLED:
        return True
    limit, window = parse_rate(rate)
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{bucket}"
    try:
        if cache.add(cache_key, 1, timeout=window + 5):
            return limit >= 1
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 5)
            count = 1
    except (RedisError, OSError) as error:
        logger.warning("rate limit %r not checked: the cache is unreachable (%s)", scope, error)
        return True
    return count <= limit
