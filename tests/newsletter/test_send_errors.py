"""What a send error means: tried again later (the provider's trouble) or failed at once (the message's)."""

from __future__ import annotations

import smtplib
import socket

import pytest
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused

from newsletter.mail_backends import is_transient, is_unreachable

NO_ANSWER = [
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    socket.gaierror(-2, "Name or service not known"),
    smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    AnymailAPIError("Error posting to https://api.example/email: connection refused"),
]
PROVIDERS_TROUBLE = [
    smtplib.SMTPConnectError(554, b"no SMTP service here"),
    smtplib.SMTPConnectError(421, b"too busy"),
    smtplib.SMTPAuthenticationError(535, b"authentication failed"),
    smtplib.SMTPSenderRefused(550, b"sender not allowed", "digest@papers.example.org"),
    smtplib.SMTPRecipientsRefused({"ada@example.org": (451, b"greylisted, try later")}),
    smtplib.SMTPDataError(452, b"insufficient storage"),
    AnymailAPIError("rate limited", status_code=429),
    AnymailAPIError("unauthorized", status_code=401),
    AnymailAPIError("server error", status_code=503),
]
THE_MESSAGES_OWN = [
    smtplib.SMTPRecipientsRefused({"ada@example.org": (550, b"no such mailbox")}),
    smtplib.SMTPDataError(554, b"message refused"),
    AnymailRecipientsRefused("inactive recipient"),
    AnymailInvalidAddress("bad address"),
    AnymailAPIError("not acceptable", status_code=406),
    AnymailAPIError("unprocessable", status_code=422),
    UnicodeError("encoding with 'idna' codec failed (UnicodeError: label empty or too long)"),
    ValueError('Invalid address "x@.de"'),
]


@pytest.mark.parametrize("error", NO_ANSWER, ids=repr)
def test_no_answer_from_the_provider_is_transient_and_unreachable(error: Exception) -> None:
    assert is_transient(error) and is_unreachable(error)


@pytest.mark.parametrize("error", PROVIDERS_TROUBLE, ids=repr)
def test_an_answer_about_the_provider_or_the_account_is_transient(error: Exception) -> None:
    assert is_transient(error) and not is_unreachable(error)


@pytest.mark.parametrize("error", THE_MESSAGES_OWN, ids=repr)
def test_an_error_of_the_message_itself_is_permanent(error: Exception) -> None:
    assert not is_transient(error) and not is_unreachable(error)
