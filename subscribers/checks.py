"""System checks for the settings the subscription pages depend on."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

META_KEY_RE = re.compile(r"^(REMOTE_ADDR|HTTP_[A-Z0-9_]+)$")


@register(Tags.security)
def check_client_ip_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """Report proxy settings under which client addresses would be wrong (rate limits, consent records)."""
    messages: list[CheckMessage] = []
    if not META_KEY_RE.match(settings.CLIENT_IP_HEADER):
        messages.append(
            Error(
                f"CLIENT_IP_HEADER {settings.CLIENT_IP_HEADER!r} is not a request.META key: never found.",
                hint="Write the header as Django's META names it: X-Forwarded-For is HTTP_X_FORWARDED_FOR.",
                id="papermail.E101",
            )
        )
    if settings.TRUSTED_PROXY_COUNT < 0:
        messages.append(
            Error(
                "TRUSTED_PROXY_COUNT is negative.",
                hint="Set it to the number of reverse proxies in front of the app (0 for none).",
                id="papermail.E102",
            )
        )
    if getattr(settings, "TRUSTED_PROXY_COUNT_ASSUMED", False):
        messages.append(
            Warning(
                "CLIENT_IP_HEADER is set without TRUSTED_PROXY_COUNT: assuming "
                f"{settings.TRUSTED_PROXY_COUNT} proxy, whose entry (right-most) is the client's address.",
                hint=(
                    "Set TRUSTED_PROXY_COUNT to the number of reverse proxies that append to the header; "
                    "the left-most entry is sent by the client and is no longer trusted."
                ),
                id="papermail.W101",
            )
        )
    return messages
