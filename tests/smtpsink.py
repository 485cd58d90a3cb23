"""A local SMTP server (aiosmtpd) that keeps every message it receives, for delivery tests."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Sink:
    """Keeps what it receives; refuses (550) recipients starting with ``refuse``; hangs up after
    ``drop_after`` messages; offers PIPELINING (RFC 2920) when asked to."""

    def __init__(self, refuse: str = "", drop_after: int | None = None, pipelining: bool = False) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = refuse
        self.drop_after = drop_after
        self.pipelining = pipelining
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        if self.pipelining:  # aiosmtpd reads commands from a buffered stream: pipelined ones work
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.refuse and address.startswith(self.refuse):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            server.transport.close()  # the connection is lost mid-conversation
            return "421 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """Start with ``with SmtpSink() as sink:``; ``sink.port`` is where it listens."""

    def __init__(self, refuse: str = "", drop_after: int | None = None, pipelining: bool = False) -> None:
        self.handler = Sink(refuse=refuse, drop_after=drop_after, pipelining=pipelining)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.messages)
