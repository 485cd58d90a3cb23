"""Polite, bounded HTTP fetching of feed documents.

Conditional GET (ETag / If-Modified-Since), connect/read timeouts plus a
deadline for the whole body (a server that trickles bytes is cut off), a size
cap, and retries with exponential backoff and jitter on 5xx, 429, timeouts and
dropped connections. Nothing here touches the database.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

import requests
import urllib3
from django.conf import settings

logger = logging.getLogger(__name__)

# Content types that can never be a feed document; anything else is judged by its bytes.
_NEVER_A_FEED = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")


class FetchError(Exception):
    """The document could not be fetched; the message says why, for an operator."""


@dataclass(frozen=True)
class FetchedDocument:
    """What the server answered: status, body (None on 304) and cache validators."""

    url: str
    status: int
    body: bytes | None
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def fetch_document(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    session: requests.Session | None = None,
) -> FetchedDocument:
    """Return the document at ``url``; raise FetchError once retries are spent.

    A 304 answer comes back with ``body=None``. A 4xx answer comes back with its
    body (arXiv explains a bad query in a 400 document) for the caller to judge.
    """
    attempts = max(1, settings.FEED_RETRIES)
    http = session or requests.Session()
    headers = {
        "User-Agent": settings.FEED_USER_AGENT,
        "Accept": (
            "application/rss+xml, application/atom+xml, application/json, application/xml;q=0.9, */*;q=0.5"
        ),
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    last_problem = ""
    try:
        for attempt in range(1, attempts + 1):
            try:
                return _fetch_once(http, url, headers)
            except _Retryable as problem:
                last_problem = str(problem)
                if attempt == attempts:
                    break
                wait = problem.wait
                if wait is None:
                    base = settings.FEED_RETRY_BACKOFF * (2 ** (attempt - 1))
                    wait = base + random.uniform(0, base)
                logger.warning("fetch %s failed (%s); retry %d in %.1fs", url, problem, attempt, wait)
                time.sleep(wait)
    finally:
        if session is None:
            http.close()
    raise FetchError(f"{last_problem} (gave up after {attempts} attempts)")


def _fetch_once(http: requests.Session, url: str, headers: dict[str, str]) -> FetchedDocument:
    deadline = time.monotonic() + settings.FEED_TOTAL_TIMEOUT
    try:
        response = http.get(
            url,
            headers=headers,
            stream=True,
            timeout=(settings.FEED_CONNECT_TIMEOUT, settings.FEED_READ_TIMEOUT),
            allow_redirects=True,
        )
    except requests.TooManyRedirects:
        raise FetchError("too many redirects (a redirect loop?)") from None
    except requests.Timeout as error:
        raise _Retryable(
            f"timed out connecting or waiting for the server ({error.__class__.__name__})"
        ) from None
    except requests.ConnectionError as error:
        raise _Retryable(f"connection failed: {_short(error)}") from None
    except requests.RequestException as error:
        raise FetchError(f"request failed: {_short(error)}") from None

    with response:
        status = response.status_code
        if status >= 500:
            raise _Retryable(f"server error HTTP {status}")
        if status == 429:
            raise _Retryable("rate limited (HTTP 429)", wait=_retry_after(response))
        if status == 304:
            return FetchedDocument(url=url, status=304, body=None)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if status < 400 and content_type.startswith(_NEVER_A_FEED):
            raise FetchError(f"expected a feed but the server sent {content_type}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > settings.FEED_MAX_BYTES:
            raise FetchError(
                f"document too large: {int(declared):,} bytes declared, limit {settings.FEED_MAX_BYTES:,}"
            )
        body = _read_capped(response, deadline)
        return FetchedDocument(
            url=url,
            status=status,
            body=body,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            content_type=content_type,
        )


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    """Read the body, stopping at the size cap or the deadline, whichever comes first.

    ``read1`` returns whatever one socket read brings, so a server that sends a
    few bytes at a time still lets the deadline be checked between reads.
    """
    limit = settings.FEED_MAX_BYTES
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"document too large: more than {limit:,} bytes")
            if time.monotonic() > deadline:
                raise FetchError(
                    f"server too slow: the body took over {settings.FEED_TOTAL_TIMEOUT:g}s "
                    f"({size:,} bytes read)"
                )
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise _Retryable("timed out reading the body") from None
    except urllib3.exceptions.DecodeError as error:
        raise FetchError(f"the body could not be decoded: {_short(error)}") from None
    except (urllib3.exceptions.ProtocolError, OSError) as error:
        raise _Retryable(f"connection dropped while reading: {_short(error)}") from None
    return b"".join(chunks)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), 60.0)
    return None


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:197] + "..."
