"""Email backends of our own: .eml files for `make run` without a provider, and Postmark's batch API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin

from anymail.backends import postmark
from anymail.exceptions import AnymailRequestsAPIError
from anymail.message import AnymailStatus
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
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


class _Batch:
    """Anymail payloads of several messages, posted as one request to Postmark's /email/batch.

    It offers what Anymail's Postmark backend reads of a payload to post it
    and to parse the answer: the request, and the recipients to report on.
    """

    def __init__(self, payloads: list[postmark.PostmarkPayload]) -> None:
        self.payloads = payloads
        self.to_emails = [to for payload in payloads for to in payload.to_emails]
        self.cc_and_bcc_emails: list[object] = []

    def get_request_params(self, api_url: str) -> dict[str, object]:
        first = self.payloads[0]
        return {
            "method": "POST",
            "url": urljoin(api_url, "email/batch"),
            "data": first.serialize_json([payload.data for payload in self.payloads]),
            "headers": {**first.headers, "X-Postmark-Server-Token": first.server_token},
        }


class PostmarkBatchBackend(postmark.EmailBackend):
    """Anymail's Postmark backend, sending many different messages in one call to /email/batch.

    Anymail makes one API call per message, and its batch sending is for one
    message with merge data; personalised digests differ from each other, and
    Postmark's batch endpoint takes up to 500 complete messages per request.
    Each message is still built by Anymail (its payload) and gets its own
    ``anymail_status`` and the pre/post send signals; Anymail parses the
    answer. A failed request raises for the whole batch, as for one message; a
    recipient Postmark refuses inside a batch is marked on its own message's
    status and the others go out.
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
            group: list[tuple[EmailMessage, postmark.PostmarkPayload]] = []
            for message in email_messages:
                message.anymail_status = AnymailStatus()  # type: ignore[attr-defined]
                if not self.run_pre_send(message) or not message.recipients():
                    continue
                payload = self.build_message_payload(message, self.send_defaults)
                if payload.get_api_endpoint() != "email":  # templates, several recipients
                    sent += self._send_alone(message, payload)
                else:
                    group.append((message, payload))
            for start in range(0, len(group), self.batch_size):
                sent += self._send_batch(group[start : start + self.batch_size])
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

    def _send_batch(self, group: list[tuple[EmailMessage, postmark.PostmarkPayload]]) -> int:
        """Post a group in one request; give each message its own status; return how many went out."""
        first = group[0][0]
        batch = _Batch([payload for _, payload in group])
        response = self.post_to_esp(batch, first)
        answers = self.deserialize_json_response(response, batch, first)
        # An answer that cannot be matched to the messages says nothing of what was accepted: an
        # error without a status, so the batch is retried (at least once, never lost).
        if not isinstance(answers, list) or len(answers) != len(group):
            raise AnymailRequestsAPIError(
                f"Postmark answered a batch of {len(group)} messages with something else: "
                f"{response.text[:300]!r}",
                email_message=first,
            )
        statuses = self.parse_recipient_status(response, batch, first)
        sent = 0
        for (message, payload), answer in zip(group, answers, strict=True):
            status: AnymailStatus = message.anymail_status  # type: ignore[attr-defined]
            status.esp_response = response
            status.set_recipient_status({to.addr_spec: statuses[to.addr_spec] for to in payload.to_emails})
            if isinstance(answer, dict) and answer.get("ErrorCode"):
                message.anymail_error = f"Postmark error {answer['ErrorCode']}: {answer.get('Message', '')}"  # type: ignore[attr-defined]
            self.run_post_send(message)
            sent += 1 if status.status & {"sent", "queued"} else 0
        return sent
