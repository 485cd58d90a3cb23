"""Email backends of our own (.eml files for `make run` without a provider, Postmark batch sending), and
what a send error means: worth trying again later, or this message's own fault."""

from __future__ import annotations

import json
import re
import smtplib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
import requests
from anymail.backends import postmark
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.message import AnymailRecipientStatus, AnymailStatus
from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, sanitize_address
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    """Write each message to EMAIL_FILE_PATH/<time>-<id>.eml (open it with any mail client)."""

    _lock = threading.Lock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            data = message.message().as_bytes(linesep="\r\n")
            with self._lock:
                (folder / name).write_bytes(data)
            sent += 1
        return sent


class _BatchResult:
    """One message's entry of a batch response, shaped like the response Anymail parses for one message."""

    def __init__(self, response: requests.Response, entry: object) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.url = response.url
        self.request = response.request
        self.reason = response.reason
        self.entry = entry
        self.text = json.dumps(entry)
        self.content = self.text.encode()

    def json(self) -> object:
        return [self.entry]


# Anymail attributes a plain message leaves unset; any of them sends the message through Anymail's payload.
_ANYMAIL_EXTRAS = (
    "envelope_sender",
    "send_at",
    "track_clicks",
    "track_opens",
    "template_id",
    "merge_data",
    "merge_global_data",
    "merge_headers",
    "merge_metadata",
    "esp_extra",
    "amp_body",
)
_BARE_ADDRESS = re.compile(r"[^\x00-\x20\x7f<>,;:@\"()\[\]\\]+@[^\x00-\x20\x7f<>,;:@\"()\[\]\\]+")


def _is_bare(address: str) -> bool:
    """Return whether ``address`` is a plain ASCII addr-spec: nothing to parse, quote or encode."""
    return address.isascii() and _BARE_ADDRESS.fullmatch(address) is not None


_REFUSED = {406: "rejected", 300: "invalid"}  # Postmark: inactive recipient; invalid request (bad address)


@dataclass
class _Prepared:
    message: EmailMessage
    body: bytes  # the message's JSON in the batch
    address: str = ""  # the recipient, for a plain message
    payload: postmark.PostmarkPayload | None = None  # Anymail's payload, for any other
    alone: bool = False  # a request of its own (templates, several recipients)


class PostmarkBatchBackend(postmark.EmailBackend):
    """Anymail's Postmark backend that sends many different messages in one call to /email/batch.

    Anymail makes one API call per message. Personalised digests mostly differ
    from each other, so merge data cannot share a body between them; Postmark's
    batch endpoint takes up to 500 complete messages (50 MB) per request, each
    with its own body, headers and metadata.

    A plain message (one To, text and HTML, headers, one tag, metadata: what a
    digest is) is written as Postmark's JSON directly; profiling showed
    Anymail's general payload builder costing more than everything else a
    digest needs. Any other message goes through Anymail's own payload (and
    Anymail's parsing of its result). Each message gets its own
    ``anymail_status`` and the pre/post send signals. A failed request raises
    for the whole batch, as for one message; a message Postmark refuses inside
    a batch is marked on its own status and the others go out.
    """

    most = 500  # Postmark: at most 500 messages per batch request
    batch_bytes = 50 * 1000 * 1000  # and at most 50 MB

    @property
    def batch_size(self) -> int:
        """Messages per call: Postmark's limit, or fewer (settings.DIGEST_BATCH_SIZE)."""
        return max(1, min(self.most, settings.DIGEST_BATCH_SIZE))

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if len(email_messages) <= 1:
            return super().send_messages(email_messages)
        created = self.open()
        sent = 0
        try:
            group: list[_Prepared] = []
            size = 2
            for message in email_messages:
                message.anymail_status = AnymailStatus()  # type: ignore[attr-defined]
                if not self.run_pre_send(message) or not message.recipients():
                    continue
                prepared = self._prepare(message)
                if prepared.alone:  # templates, several recipients: Anymail's own request
                    sent += self._send_alone(prepared)
                    continue
                if group and (
                    len(group) == self.batch_size or size + len(prepared.body) + 1 > self.batch_bytes
                ):
                    sent += self._send_batch(group)
                    group, size = [], 2
                group.append(prepared)
                size += len(prepared.body) + 1
            if group:
                sent += self._send_batch(group)
        finally:
            if created:
                self.close()
        return sent

    def _prepare(self, message: EmailMessage) -> _Prepared:
        plain = self._plain(message)
        if plain is not None:
            return plain
        payload = self.build_message_payload(message, self.send_defaults)
        if payload.get_api_endpoint() != "email":
            return _Prepared(message=message, body=b"", payload=payload, alone=True)
        return _Prepared(message=message, body=orjson.dumps(payload.data), payload=payload)

    def _send_alone(self, prepared: _Prepared) -> int:
        """Send one message as Anymail would (its pre-send signal has run already)."""
        message, payload = prepared.message, prepared.payload
        response = self.post_to_esp(payload, message)
        status: AnymailStatus = message.anymail_status  # type: ignore[attr-defined]
        status.esp_response = response
        status.set_recipient_status(self.parse_recipient_status(response, payload, message))
        self.run_post_send(message)
        self.raise_for_recipient_status(status, response, payload, message)
        return 1

    def _plain(self, message: EmailMessage) -> _Prepared | None:
        """Return a digest-like message as Postmark JSON, or None when it needs Anymail's payload."""
        alternatives = getattr(message, "alternatives", [])
        if (
            self.send_defaults
            or len(message.to) != 1
            or message.cc
            or message.bcc
            or message.reply_to
            or message.attachments
            or message.content_subtype != "plain"
            or len(alternatives) != 1
            or alternatives[0][1] != "text/html"
            or len(getattr(message, "tags", [])) > 1
            or any(getattr(message, attr, None) is not None for attr in _ANYMAIL_EXTRAS)
        ):
            return None
        to = str(message.to[0])
        if not _is_bare(to):  # a name, a list, IDN: Anymail parses it
            return None
        headers = {str(name): str(value) for name, value in message.extra_headers.items()}
        if any("\n" in v or "\r" in v for v in headers.values()) or "reply-to" in map(str.lower, headers):
            return None
        data: dict[str, object] = {
            "From": message.from_email,
            "To": to,
            "Subject": str(message.subject),
            "TextBody": str(message.body),
            "HtmlBody": str(alternatives[0][0]),
            "Headers": [{"Name": name, "Value": value} for name, value in headers.items()],
        }
        if self.message_stream is not None:
            data["MessageStream"] = self.message_stream
        tags = getattr(message, "tags", [])
        if tags:
            data["Tag"] = str(tags[0])
        metadata = getattr(message, "metadata", None)
        if metadata:
            data["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
        return _Prepared(message=message, body=orjson.dumps(data), address=to.lower())

    def _send_batch(self, group: list[_Prepared]) -> int:
        first = group[0].message
        url = f"{self.api_url}email/batch"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Postmark-Server-Token": self.server_token,
        }
        body = b"[" + b",".join(item.body for item in group) + b"]"
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raised = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, type(error)), {})
            raise raised(f"Error posting to {url}:", email_message=first) from error
        if not 200 <= response.status_code < 300:
            raise AnymailRequestsAPIError(email_message=first, response=response, backend=self)
        # An answer that cannot be matched to the messages says nothing of what was accepted: the
        # error carries no status, so the batch is retried (at least once, never lost).
        try:
            entries = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            entries = None
        if (
            not isinstance(entries, list)
            or len(entries) != len(group)
            or not all(isinstance(entry, dict) for entry in entries)
        ):
            raise AnymailRequestsAPIError(
                f"Postmark answered a batch of {len(group)} messages with something else: "
                f"{response.text[:300]!r}",
                email_message=first,
            )
        sent = 0
        for item, entry in zip(group, entries, strict=True):
            status: AnymailStatus = item.message.anymail_status  # type: ignore[attr-defined]
            status.esp_response = response
            status.set_recipient_status(self._entry_status(item, entry, response))
            self.run_post_send(item.message)
            sent += 1 if status.status & {"sent", "queued"} else 0
        return sent

    def _entry_status(
        self, item: _Prepared, entry: dict[str, object], response: requests.Response
    ) -> dict[str, AnymailRecipientStatus]:
        """Return the recipient statuses of one message from its entry in the batch response."""
        if item.payload is not None:
            try:
                return self.parse_recipient_status(_BatchResult(response, entry), item.payload, item.message)
            except AnymailAPIError as error:
                item.message.anymail_error = error  # type: ignore[attr-defined]
                return {
                    to.addr_spec: AnymailRecipientStatus(message_id=None, status="failed")
                    for to in item.payload.to_emails
                }
        code = entry.get("ErrorCode", 0)
        if code == 0 and entry.get("MessageID"):
            queued = "delivery may be delayed" in str(entry.get("Message", ""))
            return {
                item.address: AnymailRecipientStatus(str(entry["MessageID"]), "queued" if queued else "sent")
            }
        # Refused inside the batch: this message alone fails, with Postmark's words for it.
        item.message.anymail_error = f"Postmark error {code}: {entry.get('Message', '')}"  # type: ignore[attr-defined]
        return {item.address: AnymailRecipientStatus(None, _REFUSED.get(code, "failed"))}  # type: ignore[call-overload]


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, sending many digests per call and saying which went out.

    A digest is sent as the MIME bytes it writes itself (see DigestMessage).
    Each message sent is marked ``accepted``; one the server refuses for good
    (a 5xx) is marked ``refused`` and the rest go on; anything else (a dropped
    connection, a 4xx) stops the list and is raised, so the caller knows the
    unmarked messages were not sent.
    """

    most = 100  # SMTP has no batch: this bounds what a lost worker may send twice

    @property
    def batch_size(self) -> int:
        return max(1, min(self.most, settings.DIGEST_BATCH_SIZE))

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        with self._lock:
            created = self.open()
            if not self.connection or created is None:
                return 0
            sent = 0
            try:
                for message in email_messages:
                    try:
                        if self._send(message):
                            message.accepted = True  # type: ignore[attr-defined]
                            sent += 1
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                        if not _refused_for_good(error):
                            raise
                        message.refused = error  # type: ignore[attr-defined]
            finally:
                if created:
                    self.close()
        return sent

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _DigestSMTPSSL if self.use_ssl else _DigestSMTPPlain

    def _send(self, email_message: EmailMessage) -> bool:
        data = getattr(email_message, "mime_bytes", lambda: None)()
        if data is None:
            return super()._send(email_message)
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = _envelope_address(email_message.from_email, encoding)
        recipients = [_envelope_address(address, encoding) for address in email_message.recipients()]
        # Errors are raised as Django raises them (fail_silently is for the caller's single sends).
        self.connection.sendmail(from_email, recipients, data)
        return True


def _refused_for_good(error: smtplib.SMTPException) -> bool:
    return not is_transient(error)


# HTTP answers that speak of the account or the provider, not of the message: a bad key, a rate limit.
_PROVIDER_STATUSES = {401, 403, 408, 429}
# SMTP errors that speak of the server or the sender's configuration, whatever their code.
_SMTP_SERVER_ERRORS = (
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
)


def is_transient(error: BaseException) -> bool:
    """Return whether sending may succeed later: the failure is the provider's, not the message's.

    Transient: the provider could not be reached (connection refused or
    reset, a timeout, an unknown host), it failed (HTTP 5xx, SMTP 4xx), it
    refused the account (a bad key, an unknown sender) or asked us to slow
    down. Anything else fails the same way every time, and only this message:
    a recipient the provider refuses (an HTTP 4xx, an SMTP 5xx), an address no
    codec can encode, an error of our own.
    """
    if isinstance(error, AnymailRecipientsRefused):
        return False
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is None or status in _PROVIDER_STATUSES or status >= 500
    if isinstance(error, AnymailError):  # an invalid address, a feature the provider lacks
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, _SMTP_SERVER_ERRORS):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Refused, reset, timed out, unknown host, a server that hung up (SMTPServerDisconnected).
    return isinstance(error, OSError)


def is_unreachable(error: BaseException) -> bool:
    """Return whether the provider gave no answer at all: any other message would fail the same way."""
    if isinstance(error, AnymailAPIError):  # requests' errors, wrapped: no status is no answer
        return error.status_code is None
    if isinstance(error, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, AnymailError)):
        return False  # the server answered
    return isinstance(error, OSError)


def _envelope_address(address: str, encoding: str) -> str:
    """Return ``address`` for the SMTP envelope, as Django's sanitize_address would.

    A bare ASCII address is already that; parsing every recipient with the
    email package cost half a millisecond a digest. The sender is the same
    every time: its answer is kept.
    """
    if _is_bare(address):
        return address
    return _sanitized(address, encoding)


@lru_cache(maxsize=256)
def _sanitized(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


class _DigestSMTP:
    """smtplib, quicker for the shape every digest has: MIME bytes for one recipient.

    * With PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and
      their three replies are read together: two round trips a message instead
      of four. Errors are raised as smtplib raises them.
    * Dot-stuffing is done by replacement (RFC 5321 4.5.2) instead of smtplib's
      line regex, which took 0.2 ms a digest.

    Anything else (several recipients, options, a server without PIPELINING,
    non-ASCII envelope addresses) goes through smtplib's own sendmail.
    """

    def sendmail(  # type: ignore[override]
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: bytes | str,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> dict[str, tuple[int, bytes]]:
        recipients = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
        plain = (
            isinstance(msg, bytes)
            and len(recipients) == 1
            and not mail_options
            and not rcpt_options
            and from_addr.isascii()
            and recipients[0].isascii()
        )
        if plain:
            self.ehlo_or_helo_if_needed()  # type: ignore[attr-defined]
        if not plain or not self.has_extn("pipelining"):  # type: ignore[attr-defined]
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)  # type: ignore[misc]
        assert isinstance(msg, bytes)
        [recipient] = recipients
        size = f" SIZE={len(msg)}" if self.has_extn("size") else ""  # type: ignore[attr-defined]
        commands = (
            f"MAIL FROM:{smtplib.quoteaddr(from_addr)}{size}\r\n"
            f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\n"
            "DATA\r\n"
        )
        self.send(commands.encode("ascii"))  # type: ignore[attr-defined]
        mail, rcpt, data = self.getreply(), self.getreply(), self.getreply()  # type: ignore[attr-defined]
        if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            self.send(b".\r\n")  # a server that took DATA without a recipient: end it empty
            self.getreply()  # type: ignore[attr-defined]
        if mail[0] != 250:
            self._give_up(mail[0])
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], from_addr)
        if rcpt[0] not in (250, 251):
            self._give_up(rcpt[0])
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        if data[0] != 354:
            self._give_up(data[0])
            raise smtplib.SMTPDataError(*data)
        code, reply = self._send_body(msg)
        if code != 250:
            self._give_up(code)
            raise smtplib.SMTPDataError(code, reply)
        return {}

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        if isinstance(msg, str):
            return super().data(msg)  # type: ignore[misc]
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        return self._send_body(msg)

    def _send_body(self, msg: bytes) -> tuple[int, bytes]:
        """Send the message after a 354 (CRLF line ends), stuffed and ended; return the reply."""
        stuffed = msg.replace(b"\r\n.", b"\r\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]

    def _give_up(self, code: int) -> None:
        """Leave the transaction as smtplib does: close on 421, else RSET."""
        if code == 421:
            self.close()  # type: ignore[attr-defined]
        else:
            self._rset()  # type: ignore[attr-defined]


class _DigestSMTPPlain(_DigestSMTP, smtplib.SMTP):
    pass


class _DigestSMTPSSL(_DigestSMTP, smtplib.SMTP_SSL):
    pass
