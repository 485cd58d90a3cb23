"""System checks that report email and site misconfiguration before the first digest goes out."""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from newsletter import webhooks


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
    missing = _webhook_auth_missing()
    if missing and settings.DEBUG:  # in production, check --deploy reports it as an error
        messages.append(
            Warning(
                f"The {settings.ANYMAIL_PROVIDER} webhook refuses every post until {missing} is set:"
                " bounces and complaints cannot be received.",
                hint=_WEBHOOK_HINT,
                id="papermail.W001",
            )
        )
    return messages


_WEBHOOK_HINT = (
    "Set WEBHOOK_SECRET=user:password and use it in the provider's webhook URL"
    " (https://user:password@host/anymail/<provider>/tracking/), or the provider's signing key"
    " where Anymail checks one."
)


def _webhook_auth_missing() -> str | None:
    """Return what the provider's webhook lacks to authenticate posts; None if it lacks nothing or is none."""
    if not webhooks.has_tracking_webhook(settings.ANYMAIL_PROVIDER):
        return None
    return webhooks.tracking_webhook_auth_missing(settings.ANYMAIL_PROVIDER)


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
    missing = _webhook_auth_missing()
    if missing and not settings.DEBUG:
        messages.append(
            Error(
                f"The {settings.ANYMAIL_PROVIDER} webhook cannot authenticate posts: {missing} is not set."
                " It refuses every post, so bounces and complaints are not received.",
                hint=_WEBHOOK_HINT,
                id="papermail.E002",
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
