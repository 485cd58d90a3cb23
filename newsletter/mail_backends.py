"""Email backends of our own (.eml files for `make run`, Postmark's batch API, digests' own MIME over
SMTP), and what a send error means: worth trying again later, or this message's own fault."""

from __future__ import annotations

import re
import smtplib
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin

import orjson
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

from newsletter.mime import digest_mime


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


class _Batch:
    """Several messages, posted as one request to Postmark's /email/batch.

    It offers what Anymail's Postmark backend reads of a payload to post it
    and to parse the answer: the request, and the recipients to report on.
    The messages are Anymail payloads, or digests' fields (``data``).
    """

    def __init__(
        self,
        payloads: list[postmark.PostmarkPayload],
        *,
        data: list[dict[str, object]] | None = None,
        server_token: str = "",
    ) -> None:
        self.data = data if data is not None else [payload.data for payload in payloads]
        self.server_token = payloads[0].server_token if payloads else server_token
        self.to_emails = [to for payload in payloads for to in payload.to_emails]
        self.cc_and_bcc_emails: list[object] = []

    def get_request_params(self, api_url: str) -> dict[str, object]:
        return {
            "method": "POST",
            "url": urljoin(api_url, "email/batch"),
            "data": orjson.dumps(self.data, default=str),
            "headers": {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Postmark-Server-Token": self.server_token,
            },
        }


_BARE_ADDRESS = re.compile(r"[^\x00-\x20\x7f<>,;:@\"()\[\]\\]+@[^\x00-\x20\x7f<>,;:@\"()\[\]\\]+")
_REFUSED = {406: "rejected", 300: "invalid"}  # Postmark: inactive recipient; invalid request


def digest_fields(message: EmailMessage, *, stream: str | None) -> dict[str, object] | None:
    """Return Postmark's fields for a message shaped as a digest, or None to let Anymail build it.

    A digest's shape: one bare ASCII address, a text body with one HTML
    alternative, plain headers, at most one tag, metadata. Anymail parses
    every address of every message with the email package, which for a
    digest costs more than planning it (benchmarks/RESULTS.md).
    """
    alternatives = getattr(message, "alternatives", [])
    to = str(message.to[0]) if len(message.to) == 1 else ""
    headers = {str(name): str(value) for name, value in message.extra_headers.items()}
    if (
        not to.isascii()
        or not _BARE_ADDRESS.fullmatch(to)
        or message.cc
        or message.bcc
        or message.reply_to
        or message.attachments
        or message.content_subtype != "plain"
        or len(alternatives) != 1
        or alternatives[0][1] != "text/html"
        or len(getattr(message, "tags", [])) > 1
        or any(name.lower() in {"from", "to", "reply-to"} or "\n" in value for name, value in headers.items())
        or any(
            getattr(message, attr, None) is not None for attr in ("template_id", "merge_data", "esp_extra")
        )
    ):
        return None
    fields: dict[str, object] = {
        "From": message.from_email,
        "To": to,
        "Subject": str(message.subject),
        "TextBody": str(message.body),
        "HtmlBody": str(alternatives[0][0]),
        "Headers": [{"Name": name, "Value": value} for name, value in headers.items()],
    }
    if stream is not None:
        fields["MessageStream"] = stream
    if getattr(message, "tags", None):
        fields["Tag"] = str(message.tags[0])  # type: ignore[attr-defined]
    if getattr(message, "metadata", None):
        fields["Metadata"] = {str(k): str(v) for k, v in message.metadata.items()}  # type: ignore[attr-defined]
    return fields


class PostmarkBatchBackend(postmark.EmailBackend):
    """Anymail's Postmark backend, sending many different messages in one call to /email/batch.

    Anymail makes one API call per message, and its batch sending is for one
    message with merge data; personalised digests differ from each other, and
    Postmark's batch endpoint takes up to 500 complete messages per request.
    A digest-shaped message is written as Postmark's fields directly
    (:func:`digest_fields`); any other is built by Anymail (its payload) and
    batched with its kind. Each message gets its own ``anymail_status`` and the
    pre/post send signals. A failed request raises for the whole batch, as for
    one message; a recipient Postmark refuses inside a batch is marked on its
    own message's status and the others go out.
    """

    most = 500  # Postmark: at most 500 messages per batch request

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
            digests: list[tuple[EmailMessage, dict[str, object]]] = []
            others: list[tuple[EmailMessage, postmark.PostmarkPayload]] = []
            for message in email_messages:
                message.anymail_status = AnymailStatus()  # type: ignore[attr-defined]
                if not self.run_pre_send(message) or not message.recipients():
                    continue
                fields = None if self.send_defaults else digest_fields(message, stream=self.message_stream)
                if fields is not None:
                    digests.append((message, fields))
                    continue
                payload = self.build_message_payload(message, self.send_defaults)
                if payload.get_api_endpoint() != "email":  # templates, several recipients
                    sent += self._send_alone(message, payload)
                else:
                    others.append((message, payload))
            size = self.batch_size
            for start in range(0, len(digests), size):
                sent += self._send_digests(digests[start : start + size])
            for start in range(0, len(others), size):
                sent += self._send_payloads(others[start : start + size])
        finally:
            if created:
                self.close()
        return sent

    def _send_alone(self, message: EmailMessage, payload: postmark.PostmarkPayload) -> int:
        """Send one message's payload as Anymail's own send does (its pre-send signal has run)."""
        response = self.post_to_esp(payload, message)
        status: AnymailStatus = message.anymail_status  # type: ignore[attr-defined]
        status.esp_response = response
        status.set_recipient_status(self.parse_recipient_status(response, payload, message))
        self.run_post_send(message)
        self.raise_for_recipient_status(status, response, payload, message)
        return 1

    def _post_batch(self, batch: _Batch, first: EmailMessage, count: int) -> tuple[object, list[object]]:
        """Post a batch; return the response and its answers, one per message, or raise for the batch."""
        response = self.post_to_esp(batch, first)
        answers = self.deserialize_json_response(response, batch, first)
        # An answer that cannot be matched to the messages says nothing of what was accepted: an
        # error without a status, so the batch is retried (at least once, never lost).
        if (
            not isinstance(answers, list)
            or len(answers) != count
            or not all(isinstance(a, dict) for a in answers)
        ):
            raise AnymailRequestsAPIError(
                f"Postmark answered a batch of {count} messages with something else: {response.text[:300]!r}",
                email_message=first,
            )
        return response, answers

    def _send_digests(self, group: list[tuple[EmailMessage, dict[str, object]]]) -> int:
        """Post digest-shaped messages in one request; read each one's answer; return how many went out."""
        first = group[0][0]
        batch = _Batch([], data=[fields for _, fields in group], server_token=self.server_token)
        response, answers = self._post_batch(batch, first, len(group))
        sent = 0
        for (message, fields), answer in zip(group, answers, strict=True):
            code = answer.get("ErrorCode", 0)  # type: ignore[attr-defined]
            if code == 0 and answer.get("MessageID"):  # type: ignore[attr-defined]
                queued = "delivery may be delayed" in str(answer.get("Message", ""))  # type: ignore[attr-defined]
                recipient = AnymailRecipientStatus(str(answer["MessageID"]), "queued" if queued else "sent")  # type: ignore[index]
                sent += 1
            else:  # refused inside the batch: this message alone fails, with Postmark's words for it
                message.anymail_error = f"Postmark error {code}: {answer.get('Message', '')}"  # type: ignore[attr-defined]
                recipient = AnymailRecipientStatus(None, _REFUSED.get(code, "failed"))  # type: ignore[call-overload]
            status: AnymailStatus = message.anymail_status  # type: ignore[attr-defined]
            status.esp_response = response
            status.set_recipient_status({str(fields["To"]): recipient})
            self.run_post_send(message)
        return sent

    def _send_payloads(self, group: list[tuple[EmailMessage, postmark.PostmarkPayload]]) -> int:
        """Post Anymail payloads in one request; Anymail reads the answers; return how many went out."""
        first = group[0][0]
        batch = _Batch([payload for _, payload in group])
        response, _ = self._post_batch(batch, first, len(group))
        statuses = self.parse_recipient_status(response, batch, first)
        sent = 0
        for message, payload in group:
            status: AnymailStatus = message.anymail_status  # type: ignore[attr-defined]
            status.esp_response = response
            status.set_recipient_status({to.addr_spec: statuses[to.addr_spec] for to in payload.to_emails})
            self.run_post_send(message)
            sent += 1 if status.status & {"sent", "queued"} else 0
        return sent


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, sending a digest as the MIME bytes :func:`~newsletter.mime.digest_mime` writes.

    Any other message, and every error, goes as in Django's backend.
    """

    def _send(self, email_message: EmailMessage) -> bool:
        data = digest_mime(email_message)
        if data is None:
            return super()._send(email_message)
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email_message.recipients()]
        self.connection.sendmail(from_email, recipients, data)
        return True


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
