"""Polite, bounded HTTP fetching of feed documents, from public addresses only.

Conditional GET (ETag / If-Modified-Since), connect/read timeouts plus a
deadline for the whole body (a server that trickles bytes is cut off), a size
cap, and retries with exponential backoff and jitter on 5xx, 429, timeouts and
dropped connections. Nothing here touches the database.

Feed URLs are typed by editors, so a fetch must not become a way into the
machine's own network: only http(s) URLs are fetched, and every connection,
the first and each redirect's, goes to an address that was resolved once,
checked to be public, and then connected to (requests-hardened pins it, so a
second DNS answer cannot swap in another). FEED_ALLOW_PRIVATE_ADDRESSES lifts
the address check for development and tests, never the scheme check.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FETCHED_SCHEMES = ("http", "https")

# Instance metadata services; some sit at addresses that are otherwise public (Azure's).
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
# NAT64 prefixes carry an IPv4 address in their last 32 bits; the gateway would reach it.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Content types that can never be a feed document; anything else is judged by its bytes.
_NEVER_A_FEED = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")


class FetchError(Exception):
    """The document could not be fetched; the message says why, for an operator."""


class Refused(requests.RequestException):
    """A request was about to leave the public web: another scheme, or an address that is not public."""


# --- Which addresses may be fetched from -------------------------------------------------------


def address_problem(address: Address) -> str:
    """Return what kind of non-public address ``address`` is, or "" when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem:
                return problem
            if address.ipv4_mapped:
                return ""
    if address in CLOUD_METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return "a private address"
    if (
        address.is_reserved
        or not address.is_global
        or any(address in network for network in EXTRA_BLOCKED_NET_RANGES)
    ):
        return "a reserved address"
    return ""


def _refusal(host: str, address: Address, problem: str) -> str:
    try:
        literal = ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        literal = False
    if literal:
        return f"{host.strip('[]')} is {problem}; only public addresses are fetched"
    return f"{host} resolves to {address}, {problem}; only public addresses are fetched"


def _url_shape_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "this is not a valid URL"
    if parts.scheme.lower() not in FETCHED_SCHEMES:
        return "only http and https URLs are fetched"
    if not parts.hostname:
        return "the URL has no host"
    return ""


def url_problem(url: str) -> str:
    """Return why ``url`` may not be fetched, or "" when it may; for checking what an editor types.

    The host is resolved and every address it has is checked; a host that does
    not resolve now is not a problem here (the fetch checks it again).
    """
    problem = _url_shape_problem(url)
    if problem or settings.FEED_ALLOW_PRIVATE_ADDRESSES:
        return problem
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ""
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        problem = address_problem(address)
        if problem:
            return _refusal(host, address, problem)
    return ""


class _PublicAddressAdapter(IPFilterAdapter):
    """requests-hardened's adapter (resolve once, connect to that address) with a stricter check."""

    def __init__(self, *, https: bool) -> None:
        # Loopback passes the library's own filter so that address_problem names it.
        super().__init__(is_https_proto=https, allow_loopback=True)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host = urlsplit(request.url or "").hostname or ""
        try:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        except InvalidIPAddress as refused:
            address = ipaddress.ip_address(str(refused))
            raise Refused(
                _refusal(host, address, address_problem(address) or "not a public address")
            ) from None
        address = ipaddress.ip_address(host_params["host"].strip("[]"))
        problem = address_problem(address)
        if problem:
            raise Refused(_refusal(host, address, problem))
        return host_params, pool_kwargs


def _refuse_other_schemes(response: requests.Response, *args: object, **kwargs: object) -> None:
    """Stop a redirect to anything but http(s) before requests looks for a way to follow it."""
    if response.is_redirect:
        target = urljoin(response.url, response.headers.get("Location", ""))
        scheme = urlsplit(target).scheme.lower()
        if scheme not in FETCHED_SCHEMES:
            raise Refused(f"redirected to a {scheme[:20]}: URL; only http and https URLs are fetched")


def _session() -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(_refuse_other_schemes)
    if not settings.FEED_ALLOW_PRIVATE_ADDRESSES:
        session.mount("http://", _PublicAddressAdapter(https=False))
        session.mount("https://", _PublicAddressAdapter(https=True))
    return session


@dataclass(frozen=True)
class FetchedDocument:
    """What the server answered: status, body (None on 304 and 4xx) and cache validators."""

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
    attempts: int | None = None,
    total_timeout: float | None = None,
) -> FetchedDocument:
    """Return the document at ``url``; raise FetchError once retries are spent.

    A 304 answer comes back with ``body=None``, and so does a 4xx answer: its
    body is never read, so nothing a server says can end up in an error.
    ``attempts`` and ``total_timeout`` default to FEED_RETRIES and FEED_TOTAL_TIMEOUT;
    a fetch someone waits for on a page asks for less.
    """
    problem = _url_shape_problem(url)
    if problem:
        raise FetchError(f"refused: {problem}")
    attempts = max(1, attempts or settings.FEED_RETRIES)
    total = total_timeout or settings.FEED_TOTAL_TIMEOUT
    http = _session()
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
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=_backoff,
        retry=retry_if_exception_type(_Retryable),
        before_sleep=lambda state: logger.warning(
            "fetch %s failed (%s); retry %d in %.1fs",
            url,
            state.outcome.exception(),
            state.attempt_number,
            state.upcoming_sleep,
        ),
        reraise=True,
    )
    try:
        return retrying(_fetch_once, http, url, headers, total)
    except _Retryable as problem:
        raise FetchError(f"{problem} (gave up after {attempts} attempts)") from None
    finally:
        http.close()


def _backoff(state: RetryCallState) -> float:
    """Seconds before the next try: what the server asked for (Retry-After), else exponential with jitter."""
    asked = getattr(state.outcome.exception(), "wait", None)
    if asked is not None:
        return asked
    base = settings.FEED_RETRY_BACKOFF * (2 ** (state.attempt_number - 1))
    return base + random.uniform(0, base)


def _fetch_once(
    http: requests.Session, url: str, headers: dict[str, str], total_timeout: float
) -> FetchedDocument:
    deadline = time.monotonic() + total_timeout
    try:
        response = http.get(
            url,
            headers=headers,
            stream=True,
            timeout=(settings.FEED_CONNECT_TIMEOUT, settings.FEED_READ_TIMEOUT),
            allow_redirects=True,
        )
    except Refused as refused:
        raise FetchError(f"refused: {refused}") from None
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
        if status == 304 or status >= 400:
            return FetchedDocument(url=url, status=status, body=None)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()[:100]
        if content_type.startswith(_NEVER_A_FEED):
            raise FetchError(f"expected a feed but the server sent {content_type}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > settings.FEED_MAX_BYTES:
            raise FetchError(
                f"document too large: {int(declared):,} bytes declared, limit {settings.FEED_MAX_BYTES:,}"
            )
        body = _read_capped(response, deadline, total_timeout)
        return FetchedDocument(
            url=url,
            status=status,
            body=body,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            content_type=content_type,
        )


def _read_capped(response: requests.Response, deadline: float, total_timeout: float) -> bytes:
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
                    f"server too slow: the body took over {total_timeout:g}s ({size:,} bytes read)"
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
