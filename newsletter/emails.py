"""The one email module: every message papermail sends is built here from a template set.

A template set is ``templates/emails/<name>/{subject.txt, body.txt, body.html}``;
every message has a text and an HTML part and goes through Django's email API,
so any backend (files, SMTP, any Anymail provider) sends it.
"""

from __future__ import annotations

import base64
import secrets
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string

from subscribers import links
from subscribers import selectors as subscriber_selectors
from subscribers.models import ConsentRecord, Subscriber


def make_message(
    name: str, context: dict[str, Any], *, to: str, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """Return a two-part message rendered from the template set ``emails/<name>/``."""
    context = {"site_url": settings.SITE_URL, "postal_address": settings.POSTAL_ADDRESS, **context}
    subject = " ".join(render_to_string(f"emails/{name}/subject.txt", context).split())
    text = render_to_string(f"emails/{name}/body.txt", context)
    html = render_to_string(f"emails/{name}/body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def send_confirmation(*, subscriber: Subscriber, consent: ConsentRecord) -> bool:
    """Send the email that asks to confirm ``consent``, listing its choices; return whether it was sent.

    A subscribed address is asked to confirm the new choices instead (its
    current ones shown beside them); one whose choices they already are is only
    sent its preference-centre link.
    """
    choices = subscriber_selectors.signup_choices(subscriber=subscriber, consent=consent)
    if choices.subscribed and not choices.changes:
        return send_manage_link(subscriber=subscriber, same_choices=True)
    context = {
        "confirm_url": links.confirm_url(subscriber, consent.pk),
        "valid_days": settings.CONFIRMATION_TOKEN_MAX_AGE // 86400,
        "choices": choices,
    }
    if choices.subscribed:
        context["manage_url"] = links.manage_url(subscriber)
    name = "confirm_change" if choices.subscribed else "confirm"
    return make_message(name, context, to=subscriber.email).send() == 1


def send_manage_link(*, subscriber: Subscriber, same_choices: bool = False) -> bool:
    """Send a subscribed person the link to their preference centre; return whether it was sent.

    ``same_choices``: the email answers a sign-up that asked for the choices the subscriber has.
    """
    context = {
        "manage_url": links.manage_url(subscriber),
        "subscriber": subscriber,
        "same_choices": same_choices,
    }
    return make_message("manage_link", context, to=subscriber.email).send() == 1


def digest_tag(edition: str, test: bool) -> str:
    """Return the one provider tag of a digest ("digest-daily"): Postmark takes a single tag per message."""
    return "digest-test" if test else f"digest-{edition.split(':')[0]}"


class DigestMessage(EmailMultiAlternatives):
    """A digest: text and HTML, a few ASCII headers; it can write its own MIME bytes.

    Django builds MIME through the standard library's email package, which
    folds and re-encodes every header and line: about 3 ms a digest in the
    SMTP benchmark, more than everything else a digest costs. A digest has one
    fixed shape, so :meth:`mime_bytes` writes it directly (RFC 5322/2045/2047,
    the same headers and parts as Django), and :class:`~newsletter.mail_backends.SMTPBackend`
    sends those bytes. Anything outside that shape returns None, and Django's
    own ``message()`` is used.
    """

    def mime_bytes(self) -> bytes | None:
        """Return the message as it goes over SMTP (CRLF line ends), or None for Django's way."""
        if (
            self.cc
            or self.bcc
            or self.reply_to
            or self.attachments
            or len(self.to) != 1
            or len(self.alternatives) != 1
            or self.alternatives[0][1] != "text/html"
            or (self.encoding or settings.DEFAULT_CHARSET).lower() != "utf-8"
        ):
            return None
        html = self.alternatives[0][0]
        text = self.body
        headers = {
            "From": self.extra_headers.get("From", self.from_email),
            "To": self.to[0],
            "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        }
        for name, value in self.extra_headers.items():
            if name.lower() not in {"from", "to", "cc", "reply-to"}:
                headers[name] = value
        if "message-id" not in {name.lower() for name in headers}:
            headers["Message-ID"] = make_msgid(domain=DNS_NAME)
        boundary = f"==papermail-{secrets.token_hex(12)}=="
        lines = []
        for name, value in headers.items():
            value = str(value)
            if not value.isascii() or "\r" in value or "\n" in value or len(name) + len(value) > 996:
                return None  # an encoded or folded header: Django's way
            lines.append(f"{name}: {value}")
        text_part = _part(text, "plain")
        html_part = _part(html, "html")
        if text_part is None or html_part is None or boundary in text or boundary in html:
            return None
        head = "\r\n".join(
            [
                f'Content-Type: multipart/alternative; boundary="{boundary}"',
                "MIME-Version: 1.0",
                f"Subject: {_subject(self.subject)}",  # folded and encoded by the email package
                *lines,
                "",
                f"--{boundary}",
                "",
            ]
        )
        return b"".join(
            [
                head.encode(),
                text_part,
                f"\r\n--{boundary}\r\n".encode(),
                html_part,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )


def _subject(subject: str) -> str:
    """Return the Subject value for the wire: as is when ASCII, else RFC 2047 base64 words, folded.

    (The email package's own encoder, weighing quoted-printable against base64
    a character at a time, took 2 ms a subject.)
    """
    if "\n" in subject or "\r" in subject:
        raise BadHeaderError(f"Header values can't contain newlines (got {subject!r} for header 'Subject')")
    if subject.isascii() and len(subject) <= 900:
        return subject
    data, words, start = subject.encode(), [], 0
    while start < len(data):
        end = min(start + 45, len(data))  # 45 bytes -> 60 base64 characters: a 72-character word
        while end < len(data) and data[end] & 0xC0 == 0x80:  # never split a character
            end -= 1
        words.append(data[start:end])
        start = end
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)


def _part(body: str, subtype: str) -> bytes | None:
    """Return a text part (its headers and body, CRLF line ends), or None when a line is too long for 8bit."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode()
    if max(map(len, data.split(b"\n"))) > 998:
        return None  # Django would quote it (quoted-printable): let it
    encoding = "7bit" if data.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + data.replace(b"\n", b"\r\n")


def digest_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe_headers: dict[str, str],
    delivery_id: int,
    edition: str,
    test: bool = False,
) -> EmailMultiAlternatives:
    """Return a digest message with one-click unsubscribe headers and the delivery id as metadata."""
    # Our own Message-ID is what the outbox records when the backend (SMTP) returns none.
    headers = {
        **unsubscribe_headers,
        "List-Id": settings.LIST_ID,
        "Message-ID": make_msgid(f"d{delivery_id}", settings.MESSAGE_ID_DOMAIN),
    }
    message = DigestMessage(
        subject=f"[TEST] {subject}" if test else subject, body=text, to=[to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    # Anymail sends these to the provider, whose webhooks echo them back (reconciliation).
    message.tags = [digest_tag(edition, test)]  # type: ignore[attr-defined]
    message.metadata = {"delivery_id": str(delivery_id), "edition": edition}  # type: ignore[attr-defined]
    return message
