"""System checks for fetching feeds."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_feed_addresses(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """Warn when feeds may be fetched from this machine's own network."""
    if not settings.FEED_ALLOW_PRIVATE_ADDRESSES:
        return []
    return [
        Warning(
            "FEED_ALLOW_PRIVATE_ADDRESSES is on: a feed URL typed by an editor can make the server "
            "fetch from itself or its private network.",
            hint="Unset FEED_ALLOW_PRIVATE_ADDRESSES in production.",
            id="papers.W001",
        )
    ]
