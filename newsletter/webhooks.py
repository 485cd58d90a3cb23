"""The configured provider's tracking webhook, and Anymail's tracking signal handed to the service."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from anymail.signals import AnymailTrackingEvent, tracking
from anymail.utils import get_anymail_setting
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import URLPattern

from newsletter import tracking as digest_tracking

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signing:
    """The Anymail settings holding a provider's webhook signing key, in the order Anymail falls back."""

    settings: tuple[str, ...]
    # Anymail cannot run the webhook without one: WEBHOOK_SECRET alone is not enough.
    required: bool = False


# Besides WEBHOOK_SECRET (HTTP basic auth, checked by Anymail for every provider once set), these
# providers' tracking webhooks can check a signature. A provider not listed has basic auth only.
SIGNING = {
    "mailgun": Signing(("MAILGUN_WEBHOOK_SIGNING_KEY", "MAILGUN_API_KEY"), required=True),
    "mailersend": Signing(("MAILERSEND_SIGNING_SECRET",), required=True),
    "mandrill": Signing(("MANDRILL_WEBHOOK_KEY",), required=True),
    "postal": Signing(("POSTAL_WEBHOOK_KEY",), required=True),
    "unisender_go": Signing(("UNISENDER_GO_API_KEY",), required=True),
    "mailtrap": Signing(("MAILTRAP_TRACKING_SECRET",)),
    "resend": Signing(("RESEND_SIGNING_SECRET",)),
    "sendgrid": Signing(("SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",)),
}
_ABSENT = object()


def tracking_webhook_auth_missing(provider: str) -> str | None:
    """Return the setting(s) the provider's tracking webhook needs to authenticate posts, or None if set.

    An empty value counts as missing: Anymail would check a signature made with
    an empty key, which anyone can compute, or skip basic auth.
    """
    signing = SIGNING.get(provider)
    if signing is not None:
        key = next(
            (v for v in map(_anymail_setting, signing.settings) if v is not _ABSENT),
            _ABSENT,
        )
        if isinstance(key, str) and key:
            return None
        if signing.required:
            return f"ANYMAIL_{signing.settings[0]}"
    secret = _anymail_setting("WEBHOOK_SECRET")
    secrets = [secret] if isinstance(secret, str) else secret
    if isinstance(secrets, list | tuple) and secrets and all(isinstance(s, str) and s for s in secrets):
        return None
    return "WEBHOOK_SECRET" + (f" or ANYMAIL_{signing.settings[0]}" if signing else "")


def _anymail_setting(name: str) -> object:
    # Anymail's own lookup (ANYMAIL dict, then ANYMAIL_* settings); bare names are not trusted here.
    return get_anymail_setting(name.lower(), default=_ABSENT)


def tracking_urlpatterns(provider: str) -> list[URLPattern]:
    """Return the provider's tracking webhook URL(s) from Anymail's, guarded; none without a provider.

    Other providers' webhooks and the inbound ones (nothing here reads inbound
    mail) are not mounted, so they answer 404.
    """
    return [
        URLPattern(p.pattern, _guard(p.callback, provider), p.default_args, p.name)
        for p in _anymail_tracking_patterns(provider)
    ]


def has_tracking_webhook(provider: str) -> bool:
    """Return whether Anymail has a tracking webhook for this provider (SMTP and file backends have none)."""
    return bool(_anymail_tracking_patterns(provider))


def _anymail_tracking_patterns(provider: str) -> list[URLPattern]:
    if not provider:
        return []
    from anymail.urls import urlpatterns

    names = {f"{provider}_tracking_webhook", f"{provider}_webhook"}  # Mandrill's is combined
    return [p for p in urlpatterns if isinstance(p, URLPattern) and p.name in names]


def _guard(view: Callable[..., HttpResponse], provider: str) -> Callable[..., HttpResponse]:
    """Refuse every post while authentication is not configured; answer 400, not 500, to a bad payload.

    Providers retry 5xx forever. Nothing is read or recorded from a refused post.
    """

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        missing = tracking_webhook_auth_missing(provider)
        if missing is not None:
            if request.method == "HEAD":
                # Providers check a URL with HEAD when it is added; Mandrill gives out its
                # signing key only after that. A HEAD reads and records nothing.
                return HttpResponse()
            logger.warning("webhook %s refused: set %s to authenticate its posts", request.path, missing)
            return HttpResponseForbidden("webhook authentication is not configured")
        try:
            return view(request, *args, **kwargs)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, RecursionError) as error:
            logger.warning("webhook %s: malformed payload (%s)", request.path, error)
            return HttpResponseBadRequest("malformed webhook payload")

    return guarded


@receiver(tracking)
def on_tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    digest_tracking.tracking_event_record(event=event, provider=esp_name.lower())
