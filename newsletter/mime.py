"""A digest's MIME bytes for SMTP, written directly (see digest_mime)."""

from __future__ import annotations

import base64
import secrets
from email.utils import formatdate

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME


def digest_mime(message: EmailMessage) -> bytes | None:
    """Return a digest-shaped message as it goes over SMTP (CRLF line ends), or None for Django's way.

    A digest has one fixed shape (one recipient, text and HTML, ASCII
    headers): its MIME is written directly, the same as Django's ``message()``
    (a test compares them), without the email package's costly re-encoding of
    every header and line (benchmarks/RESULTS.md). Another shape returns None.
    """
    alternatives = getattr(message, "alternatives", [])
    if (
        message.cc
        or message.bcc
        or message.reply_to
        or message.attachments
        or len(message.to) != 1
        or len(alternatives) != 1
        or alternatives[0][1] != "text/html"
        or (message.encoding or settings.DEFAULT_CHARSET).lower() != "utf-8"
    ):
        return None
    html = alternatives[0][0]
    text = message.body
    lines = _header_lines(message)
    if lines is None:
        return None
    boundary = f"==papermail-{secrets.token_hex(12)}=="
    text_part = _part(text, "plain")
    html_part = _part(html, "html")
    if text_part is None or html_part is None or boundary in text or boundary in html:
        return None
    head = "\r\n".join(
        [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "MIME-Version: 1.0",
            f"Subject: {_subject(message.subject)}",  # folded and encoded by the email package
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


def _header_lines(message: EmailMessage) -> list[str] | None:
    """Return the message's headers as lines, as Django would set them; None when one needs encoding."""
    headers = {
        "From": message.extra_headers.get("From", message.from_email),
        "To": message.to[0],
        "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
    }
    for name, value in message.extra_headers.items():
        if name.lower() not in {"from", "to", "cc", "reply-to"}:
            headers[name] = value
    if "message-id" not in {name.lower() for name in headers}:
        headers["Message-ID"] = make_msgid(domain=DNS_NAME)
    lines = []
    for name, value in headers.items():
        value = str(value)
        if not value.isascii() or "\r" in value or "\n" in value or len(name) + len(value) > 996:
            return None  # an encoded or folded header: Django's way
        lines.append(f"{name}: {value}")
    return lines


def _subject(subject: str) -> str:
    """Return the Subject value for the wire: as is when ASCII, else RFC 2047 base64 words, folded."""
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
