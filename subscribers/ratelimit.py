"""Rate limits (django-ratelimit, counting in Django's cache: local memory, or Redis when configured), and the
client address they count by.

When the cache cannot be reached the limits fail open, with a warning: a Redis
outage must not turn every sign-up away. The confirmation email still waits
in the database for the queue (see LinkEmail).
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """Return the address of the client that sent ``request``, as far as trusted proxies vouch for it.

    With TRUSTED_PROXY_COUNT = N proxies in front, each appending the address it
    got the request from to CLIENT_IP_HEADER (X-Forwarded-For), the N-th entry
    from the right was written by the outermost of them: that is the client.
    Entries further left came with the request and are never believed. A value
    that is not an IP address, or a header too short to have passed through
    every proxy, falls back to REMOTE_ADDR (None only if that is not one either).
    This is the one function for a client's address: rate limits, consent records, events.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")
        if len(hops) >= count:
            address = _address(hops[-count])
            if address is not None:
                return str(address)
    address = _address(request.META.get("REMOTE_ADDR", ""))
    return None if address is None else str(address)


def client_bucket(request: HttpRequest) -> str:
    """Return the key a client's requests are counted under: its address, or its /64 network for IPv6.

    One IPv6 subscriber line is given a whole /64 and can change address at will inside it.
    """
    address = _address(client_ip(request) or "")
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return ``value`` as an IP address in one form (IPv4-mapped IPv6 as IPv4, no zone), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address


def over_limit(scope: str, key: str, rate: str) -> int:
    """Count one attempt for ``key`` in ``scope``; return 0 while within ``rate``, else the seconds to wait.

    django-ratelimit keeps the counts in Django's cache. When that cache (Redis)
    cannot be reached the limit is not checked: a sign-up must not fail because
    its abuse counter is down.
    """
    if not settings.RATE_LIMITS_ENABLED:
        return 0
    try:
        usage = get_usage(
            None, group=f"papermail.{scope}", key=lambda _group, _request: key, rate=rate, increment=True
        )
    except (RedisError, OSError) as error:
        logger.warning("rate limit %r not checked: the cache is unreachable (%s)", scope, error)
        return 0
    if usage is None or not usage["should_limit"]:
        return 0
    return max(1, int(usage["time_left"]))
