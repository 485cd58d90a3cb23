"""Email addresses in the one form they are stored, looked up, hashed and sent to.

The whole address is lowercased (as it always was here) and its domain is
written in IDNA A-labels, with UTS 46 mapping: ``User@Bücher.de`` and
``user@xn--bcher-kva.de`` are one mailbox, so they are one subscriber and one
suppression, and a bounce reported for either form finds it. The ASCII domain
is also what every SMTP server and provider API accepts. Pure functions, no
database.
"""

from __future__ import annotations

import unicodedata

import idna

# The size of Subscriber.email: a canonical form longer than this cannot be stored.
MAX_LENGTH = 254


class AddressError(ValueError):
    """An address with no canonical form that can be stored; the message is shown to the person."""


def canonical_email(address: str) -> str:
    """Return the canonical form of ``address``, for looking it up.

    An address whose domain is not a valid international name is returned
    lowercased: lookups of addresses from outside (provider events, commands)
    find what there is and never raise.
    """
    try:
        return _canonical(address)
    except AddressError:
        return unicodedata.normalize("NFC", address.strip()).lower()


def checked_email(address: str) -> str:
    """Return the canonical form of an address someone typed; raise AddressError if it cannot be stored."""
    canonical = _canonical(address)
    if len(canonical) > MAX_LENGTH:
        raise AddressError(
            f"This address is too long: written out in full it takes {len(canonical)} characters, "
            f"and at most {MAX_LENGTH} fit."
        )
    return canonical


def unicode_domain_form(address: str) -> str:
    """Return a canonical address with its domain in Unicode (how it was stored before it had one form)."""
    local, at, domain = address.rpartition("@")
    if "xn--" not in domain:
        return address
    try:
        return f"{local}{at}{idna.decode(domain)}"
    except (idna.IDNAError, UnicodeError):
        return address


def _canonical(address: str) -> str:
    address = address.strip()
    if address.isascii():
        return address.lower()
    local, at, domain = unicodedata.normalize("NFC", address).rpartition("@")
    if at and not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise AddressError(
                "The part after @ is not a valid domain name. Check it for typing mistakes."
            ) from None
    return f"{local}{at}{domain}".lower()
