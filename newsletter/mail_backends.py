"""A local email backend: every message becomes one .eml file, for `make run` without a provider."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

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
