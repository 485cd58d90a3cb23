"""Signed, purpose-bound tokens that identify a subscriber in a link, with no password.

Each purpose has its own salt, so a token made for one (unsubscribe) is refused
for another (confirm). Tokens also carry a short keyed hash of the address, so a
token outlives neither an erasure nor a re-used row id.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing

from subscribers.addresses import canonical_email, unicode_domain_form


class Purpose(StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"
    UNSUBSCRIBE = "unsubscribe"
    DELIVERY = "delivery"  # view in browser and feedback links of one digest
    FEED = "feed"  # the subscriber's personal Atom feed
    BROWSER = "browser"  # the site's cookie left by the preference centre (subscribers/browser.py)


class TokenExpired(Exception):
    """The token is genuine but too old; ``payload`` says whose it was."""

    def __init__(self, payload: dict[str, object]) -> None:
        super().__init__("token expired")
        self.payload = payload


class TokenInvalid(Exception):
    """The token was not made by us, or not for this purpose."""


@dataclass(frozen=True)
class TokenData:
    subscriber_id: int
    address_tag: str
    consent_id: int | None = None
    delivery_id: int | None = None


def email_hash(email: str) -> str:
    """Return the keyed hash of an address: how a suppressed or erased address is remembered."""
    return _keyed_hash(settings.SUPPRESSION_HASH_KEY, canonical_email(email))


def _keyed_hash(key: str, address: str) -> str:
    return hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()


def address_tag(email: str) -> str:
    return email_hash(email)[:10]


def address_tag_matches(email: str, tag: str) -> bool:
    """Return whether ``tag`` is the address tag of ``email``, a canonical address.

    Links mailed before addresses had one canonical form carry the tag of the
    address as it was stored then, with its domain in Unicode: they keep working.
    """
    if address_tag(email) == tag:
        return True
    legacy = unicode_domain_form(email)
    return legacy != email and _keyed_hash(settings.SUPPRESSION_HASH_KEY, legacy)[:10] == tag


def _salt(purpose: Purpose) -> str:
    return f"papermail.subscribers.{purpose.value}"


def make_token(
    purpose: Purpose,
    *,
    subscriber_id: int,
    email: str,
    consent_id: int | None = None,
    delivery_id: int | None = None,
    tag: str = "",
) -> str:
    """Return a URL-safe signed token for ``purpose`` (``django.core.signing.dumps``, compact JSON).

    ``tag`` is ``address_tag(email)`` when the caller signs several tokens for one address.
    """
    payload: dict[str, object] = {"s": int(subscriber_id), "a": tag or address_tag(email)}
    if consent_id is not None:
        payload["c"] = int(consent_id)
    if delivery_id is not None:
        payload["d"] = int(delivery_id)
    return signing.dumps(payload, salt=_salt(purpose))


def read_token(purpose: Purpose, token: str) -> TokenData:
    """Return what ``token`` says; raise TokenExpired or TokenInvalid.

    Confirmation tokens (settings.CONFIRMATION_TOKEN_MAX_AGE) and the site's
    cookie (READER_COOKIE_MAX_AGE) expire; manage and unsubscribe links keep
    working as long as the subscriber exists.
    """
    max_age = {
        Purpose.CONFIRM: settings.CONFIRMATION_TOKEN_MAX_AGE,
        Purpose.BROWSER: settings.READER_COOKIE_MAX_AGE,
    }.get(purpose)
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        payload = signing.loads(token, salt=_salt(purpose))
        raise TokenExpired(payload) from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise TokenInvalid from None
    return _token_data(payload)


def _token_data(payload: object) -> TokenData:
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("s"), int)
        or not isinstance(payload.get("a"), str)
    ):
        raise TokenInvalid
    consent, delivery = payload.get("c"), payload.get("d")
    return TokenData(
        subscriber_id=payload["s"],
        address_tag=payload["a"],
        consent_id=consent if isinstance(consent, int) else None,
        delivery_id=delivery if isinstance(delivery, int) else None,
    )


def data_from_expired(error: TokenExpired) -> TokenData:
    """Return the data of an expired token, to offer its owner a new link."""
    return _token_data(error.payload)
