"""System checks that report email and site misconfiguration before the first digest goes out."""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.compatibility, deploy=False)
def check_email_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    module_path = settings.EMAIL_BACKEND.rsplit(".", 1)[0]
    try:
        importlib.import_module(module_path)
    except ImportError:
        messages.append(
            Error(
                f"EMAIL_BACKEND {settings.EMAIL_BACKEND!r} cannot be imported.",
                hint="ANYMAIL_PROVIDER must name an Anymail backend: postmark, mailgun, amazon_ses...",
                id="papermail.E001",
            )
        )
    if settings.ANYMAIL_PROVIDER and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        messages.append(
            Warning(
                "A provider is set but WEBHOOK_SECRET is not: bounces and complaints cannot be received.",
                hint="Set WEBHOOK_SECRET=user:password and use it in the provider's webhook URL.",
                id="papermail.W001",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_production_email(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.EMAIL_BACKEND.endswith(("EmlFileBackend", "filebased.EmailBackend", "console.EmailBackend")):
        messages.append(
            Warning(
                "Email is written to files, not sent.",
                hint="Set ANYMAIL_PROVIDER (and its keys) or EMAIL_URL for SMTP.",
                id="papermail.W002",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        messages.append(
            Warning(
                "SITE_URL is not https: one-click unsubscribe links must be HTTPS (RFC 8058).",
                id="papermail.W003",
            )
        )
    return messages
