"""Helpers for subscription tests: submit forms with on-commit work run, read links from mail."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client

from newsletter.link_emails import link_emails_sweep
from subscribers.models import Subscriber

LINK_RE = re.compile(r"https://papers\.example\.org(/[^\s\"<>]+/)")


@pytest.fixture
def post(client: Client, django_capture_on_commit_callbacks) -> Callable[..., object]:
    """POST like a browser, run what the request scheduled after commit, then beat's email sweep."""

    def do(url: str, data: dict[str, object] | None = None, *, using: Client | None = None, **extra: object):
        with django_capture_on_commit_callbacks(execute=True):
            response = (using or client).post(url, data or {}, **extra)
        link_emails_sweep()
        return response

    return do


@pytest.fixture
def signup(post) -> Callable[..., object]:
    def do(email: str = "ada@example.org", **fields: object):
        data = {
            "email": email,
            "topics": ["llm"],
            "cadence": "daily",
            "timezone": "Europe/Paris",
            "send_hour": "7",
        }
        data.update(fields)
        return post("/subscribe/", data, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (test)")

    return do


def links_in(message: mail.EmailMessage) -> list[str]:
    """Return the site paths linked from both parts of a message (they must agree)."""
    text_links = LINK_RE.findall(message.body)
    html = message.alternatives[0][0]
    html_links = LINK_RE.findall(html)
    assert text_links and set(text_links) <= set(html_links), (text_links, html_links)
    return text_links


def link(kind: str, message: mail.EmailMessage | None = None) -> str:
    """Return the first /<kind>/... path in ``message`` (the latest email by default)."""
    message = message or mail.outbox[-1]
    return next(path for path in links_in(message) if path.startswith(f"/{kind}/"))


@pytest.fixture
def active(signup, post) -> Subscriber:
    """A confirmed subscriber (ada@example.org), with the mail outbox emptied."""
    signup()
    post(link("confirm"))
    mail.outbox.clear()
    return Subscriber.objects.get(email="ada@example.org")
